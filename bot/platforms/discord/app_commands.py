"""Discord application commands generated from the command specs.

The specs are the single source (given as a :class:`~bot.commandspec.CommandCatalog`, the
registry in production): every spec becomes a slash command (or a subcommand of its
group) with an English base name and description and French localizations. Discord rules applied
here:

- names are lowercase, at most 32 characters; descriptions at most 100 characters (cut with …);
- required options come before optional ones;
- a variadic positional option (poll answers) becomes one string option holding quoted words
  (``"A" "B" "C"``), split by the same parser as text commands;
- flags become booleans, channels and users their native types, fixed choices Discord choices,
  numbers of things an integer with autocomplete;
- a group whose every subcommand is for coordinators, or a command for coordinators, gets
  ``default_member_permissions = "0"``: hidden from members until a server admin grants the
  Coordination role in the server's Integrations settings. The app checks roles on every command
  anyway, so a member who still reaches one is refused politely.

Message context menus (type 3, "Apps" in a message's menu) are listed in :data:`MESSAGE_MENUS`:
each runs a registry command on the message it was opened on. Their names may hold capitals and
spaces; they have no description (Discord refuses one and returns ``""``) and no options. The
permission is the command's: ``default_member_permissions = "0"`` only when the command is for
coordinators. The Discord platform turns the interaction into a
:class:`~bot.core.CommandEvent` for that command (:func:`menu_command`).

The payload is sorted and stable, so comparing it with what Discord returns tells whether a sync
is needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from bot.commandspec import CommandCatalog, CommandSpec, Option, OptionType
from bot.core import Role
from bot.i18n import Translator, Translators

if TYPE_CHECKING:  # annotations only: the payload builder loads without them
    from bot.platforms.discord.types import ApplicationCommand, CommandOption, Localizations
    from bot.platforms.discord.types import OptionType as WireOptionType

CHAT_INPUT: Final = 1
MESSAGE: Final = 3
SUB_COMMAND: Final = 1
STRING: Final = 3
INTEGER: Final = 4
BOOLEAN: Final = 5
USER: Final = 6
CHANNEL: Final = 7

_TYPES: dict[OptionType, WireOptionType] = {
    OptionType.STRING: STRING,
    OptionType.TEXT: STRING,
    OptionType.INTEGER: INTEGER,
    OptionType.FLAG: BOOLEAN,
    OptionType.CHANNEL: CHANNEL,
    OptionType.USER: USER,
    OptionType.CHOICE: STRING,
}


@dataclass(frozen=True, slots=True)
class MessageMenu:
    """A message context-menu command that runs a registry command on the message."""

    name: str
    """The English base name, which Discord sends back in every interaction."""
    name_fr: str
    """Its French localization. Like command names, menu names are identifiers kept in the
    code (a French and an English one), not catalog messages."""
    command: str
    """The registry command it runs, in English words (``"highlight"``: ``/pepite``)."""


MESSAGE_MENUS: tuple[MessageMenu, ...] = (
    MessageMenu("Add to gazette", "Ajouter à la gazette", "highlight"),
)


def menu_command(name: str) -> str | None:
    """The registry command a message menu runs, from the name Discord sends; None if unknown."""
    return next((m.command for m in MESSAGE_MENUS if m.name == name), None)


def _cut(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _describe(msgid: str, en: Translator, fr: Translator) -> tuple[str, Localizations]:
    """The English description and its French localization."""
    return _cut(en.gettext(msgid)), {"fr": _cut(fr.gettext(msgid))}


def option_payload(option: Option, en: Translator, fr: Translator) -> CommandOption:
    description, localized = _describe(option.help, en, fr)
    payload: CommandOption = {
        "type": INTEGER if option.autocomplete else _TYPES[option.type],
        "name": option.alias[:32],
        "name_localizations": {"fr": option.name[:32]},
        "description": description,
        "description_localizations": localized,
        "required": bool(option.required or option.min_count > 0),
    }
    if option.type is OptionType.CHOICE:
        payload["choices"] = [{"name": c, "value": c} for c in option.choices]
    if option.autocomplete:
        payload["autocomplete"] = True
    if option.type is OptionType.INTEGER:
        payload["min_value"] = 0
    return payload


def _options(spec: CommandSpec, en: Translator, fr: Translator) -> list[CommandOption]:
    options = [option_payload(o, en, fr) for o in spec.options]
    return sorted(options, key=lambda o: not o["required"])  # stable: required first


def _subcommand(spec: CommandSpec, en: Translator, fr: Translator) -> CommandOption:
    description, localized = _describe(spec.help, en, fr)
    return {
        "type": SUB_COMMAND,
        "name": spec.alias[:32],
        "name_localizations": {"fr": spec.name[:32]},
        "description": description,
        "description_localizations": localized,
        "options": _options(spec, en, fr),
    }


def application_commands(
    catalog: CommandCatalog, translators: Translators
) -> list[ApplicationCommand]:
    """The bulk-overwrite payload for ``PUT /applications/{id}/commands``."""
    en, fr = translators.get("en"), translators.get("fr")
    top: list[ApplicationCommand] = []
    groups: dict[str, list[CommandSpec]] = {}
    for spec in catalog.specs:
        if spec.group:
            groups.setdefault(spec.group, []).append(spec)
            continue
        description, localized = _describe(spec.help, en, fr)
        command: ApplicationCommand = {
            "type": CHAT_INPUT,
            "name": spec.alias[:32],
            "name_localizations": {"fr": spec.name[:32]},
            "description": description,
            "description_localizations": localized,
            "options": _options(spec, en, fr),
        }
        if spec.permission is Role.COORDINATOR:
            command["default_member_permissions"] = "0"
        top.append(command)
    for group, specs in groups.items():
        first = specs[0]
        help_msgid = next((s.group_help for s in specs if s.group_help), first.help)
        subcommands = [_subcommand(s, en, fr) for s in sorted(specs, key=lambda s: s.alias)]
        description, localized = _describe(help_msgid, en, fr)
        command = {
            "type": CHAT_INPUT,
            "name": (first.group_alias or group)[:32],
            "name_localizations": {"fr": group[:32]},
            "description": description,
            "description_localizations": localized,
            "options": subcommands,
        }
        if all(s.permission is Role.COORDINATOR for s in specs):
            command["default_member_permissions"] = "0"
        top.append(command)
    top.extend(message_menus(catalog))
    return sorted(top, key=lambda c: (c["type"], c["name"]))


def message_menus(catalog: CommandCatalog) -> list[ApplicationCommand]:
    """The payloads of :data:`MESSAGE_MENUS` whose command the catalog has."""
    menus: list[ApplicationCommand] = []
    for menu in MESSAGE_MENUS:
        words = menu.command.split()
        spec = catalog.find(words[0], words[1] if len(words) > 1 else None)
        if spec is None:
            continue  # the command family is not loaded
        payload: ApplicationCommand = {
            "type": MESSAGE,
            "name": menu.name[:32],
            "name_localizations": {"fr": menu.name_fr[:32]},
        }
        if spec.permission is Role.COORDINATOR:
            payload["default_member_permissions"] = "0"
        menus.append(payload)
    return menus


# --- comparing with what Discord has -----------------------------------------------------------

_COMMAND_KEYS = (
    "type",
    "name",
    "name_localizations",
    "description",
    "description_localizations",
    "options",
    "default_member_permissions",
    "nsfw",
)
_COMMAND_KEYS_IF_GIVEN = ("contexts", "integration_types", "dm_permission")
_OPTION_KEYS = (
    "type",
    "name",
    "name_localizations",
    "description",
    "description_localizations",
    "required",
    "choices",
    "options",
    "channel_types",
    "min_value",
    "max_value",
    "min_length",
    "max_length",
    "autocomplete",
)
_CHOICE_KEYS = ("name", "name_localizations", "value")


def _empty(value: Any) -> bool:
    # "": the description Discord gives message and user commands, which take none.
    return value is None or value is False or value == "" or value == [] or value == {}


def _normal(
    obj: Mapping[str, Any], keys: Sequence[str], extra: Sequence[str] = ()
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in (*keys, *extra):
        value = obj.get(key)
        if _empty(value):
            continue
        if key == "options":
            value = [_normal(o, _OPTION_KEYS) for o in value or ()]
        elif key == "choices":
            value = [_normal(c, _CHOICE_KEYS) for c in value or ()]
        elif key == "default_member_permissions":
            value = str(value)
        out[key] = value
    if out.get("type", 1) == 1 and keys is _COMMAND_KEYS:
        out.pop("type", None)
    return out


def same_commands(desired: Sequence[ApplicationCommand], existing: Any) -> bool:
    """Whether Discord's ``existing`` commands already match the ``desired`` payloads."""
    if not isinstance(existing, list) or len(existing) != len(desired):
        return False
    current = {(c.get("name"), c.get("type", 1)): c for c in existing if isinstance(c, Mapping)}
    for command in desired:
        known = current.get((command.get("name"), command.get("type", 1)))
        if known is None:
            return False
        extra = [k for k in _COMMAND_KEYS_IF_GIVEN if k in command]
        if _normal(command, _COMMAND_KEYS, extra) != _normal(known, _COMMAND_KEYS, extra):
            return False
    return True
