"""The Discord command payload covers every command of the registry, localized in French."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.commandspec import CommandSpec, Option, OptionType
from bot.core import Role
from bot.i18n import Translators
from bot.platforms.discord.app_commands import (
    MESSAGE_MENUS,
    application_commands,
    menu_command,
    same_commands,
)
from bot.registry import Registry
from bot.wiring import FAMILIES

NAME = re.compile(r"^[-_a-z0-9]{1,32}$")


def test_every_command_is_in_the_payload_with_french_localizations() -> None:
    registry = Registry.build_groups(f.handlers for f in FAMILIES)
    payload = application_commands(registry, Translators(ZoneInfo("Europe/Paris")))
    by_name = {c["name"]: c for c in payload if c["type"] == 1}
    for spec in registry.specs:
        if spec.group:
            group = by_name[spec.group_alias or spec.group]
            assert group["name_localizations"] == {"fr": spec.group}
            entry = next(o for o in group["options"] if o["name"] == spec.alias)
            assert entry["type"] == 1
        else:
            entry = by_name[spec.alias]
            assert entry["type"] == 1
            if spec.permission is Role.COORDINATOR:
                assert entry["default_member_permissions"] == "0"
        assert entry["name_localizations"] == {"fr": spec.name}
        assert entry["description"] and entry["description_localizations"]["fr"]
        assert entry["description"] != entry["description_localizations"]["fr"]
        assert [o["name"] for o in entry["options"]] == sorted(
            [o.alias for o in spec.options],
            key=lambda n: not next(o for o in entry["options"] if o["name"] == n)["required"],
        )
    for command in (c for c in payload if c["type"] == 1):
        assert NAME.match(command["name"])
        assert len(command["description"]) <= 100
        for option in command.get("options", []):
            assert NAME.match(option["name"])
            assert len(option["description"]) <= 100
            assert len(option["description_localizations"]["fr"]) <= 100
    assert by_name["help"]["name_localizations"] == {"fr": "aide"}
    assert by_name["announce"]["options"][0]["type"] == 7  # a channel
    assert application_commands(registry, Translators(ZoneInfo("UTC"))) == payload  # stable


def test_the_gazette_context_menu_runs_the_highlight_command() -> None:
    registry = Registry.build_groups(f.handlers for f in FAMILIES)
    payload = application_commands(registry, Translators(ZoneInfo("Europe/Paris")))
    menus = [c for c in payload if c["type"] == 3]
    assert menus == [
        {"type": 3, "name": "Add to gazette", "name_localizations": {"fr": "Ajouter à la gazette"}}
    ]
    # No description and no options (Discord refuses them on message commands); the highlight
    # command is open to members (a member's use counts as a proposal), so no permission bit.
    assert payload[-1] is menus[0]  # after the slash commands, in a stable order
    assert menu_command("Add to gazette") == "highlight"
    assert menu_command("Ajouter à la gazette") is None  # Discord sends the base name only
    spec = registry.resolve(["highlight"], Translators(ZoneInfo("UTC")).get("en")).spec
    assert spec.group == "pepite" and spec.permission is Role.MEMBER
    assert [m.name for m in MESSAGE_MENUS] == ["Add to gazette"]
    # What Discord returns for a stored message command: description "", null localizations
    # of the description, ids and versions: still the same command, so no new sync.
    stored = [
        dict(c, id="1", application_id="2", version="3")
        | ({"description": "", "description_localizations": None} if c["type"] == 3 else {})
        for c in payload
    ]
    assert same_commands(payload, stored)
    stored[-1]["name_localizations"] = {"fr": "Ajouter au journal"}
    assert not same_commands(payload, stored)


def test_a_menu_whose_command_is_absent_is_left_out() -> None:
    import commands.help

    registry = Registry.build([commands.help])
    payload = application_commands(registry, Translators(ZoneInfo("UTC")))
    assert payload and all(c["type"] == 1 for c in payload)


def test_any_catalog_of_specs_will_do() -> None:
    """The platform reads specs through bot.commandspec.CommandCatalog, not the registry."""

    @dataclass
    class Catalog:
        specs: list[CommandSpec] = field(default_factory=list)

        def find(self, name: str, sub: str | None = None) -> CommandSpec | None:
            return next((s for s in self.specs if s.alias == name and s.group is None), None)

    ping = CommandSpec(
        "sonde",
        "ping",
        "Answers pong.",
        handler=lambda ctx, args: None,
        options=(Option("fort", "loud", "Louder.", OptionType.FLAG),),
        permission=Role.COORDINATOR,
    )
    payload = application_commands(Catalog([ping]), Translators(ZoneInfo("UTC")))
    assert [c["name"] for c in payload] == ["ping"]
    assert payload[0]["name_localizations"] == {"fr": "sonde"}
    assert payload[0]["options"][0]["type"] == 5  # a boolean
    assert payload[0]["default_member_permissions"] == "0"
    highlight = CommandSpec("pepite", "highlight", "Keeps a message.", handler=lambda c, a: None)
    menus = application_commands(Catalog([highlight]), Translators(ZoneInfo("UTC")))
    assert [(c["type"], c["name"]) for c in menus] == [(1, "highlight"), (3, "Add to gazette")]
