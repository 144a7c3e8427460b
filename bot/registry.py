"""The command registry: tagging, building and checking specs, text parsing and lookup.

A command module tags its handlers with :func:`command` (the decorator only tags). At start-up,
:meth:`Registry.build` collects the tagged handlers of the given modules, checks every spec and
rejects a bad one at once. The specs themselves (:class:`CommandSpec`, :class:`Option`,
:class:`OptionType`) are the neutral types of :mod:`bot.commandspec`, exported here too. The same spec drives text parsing (console, Rocket.Chat), Discord
application commands and ``/aide``.

Names: each command has a French canonical name and an English alias; a command may belong to a
group (``/sondage clore 3``: group ``sondage``, command ``clore``), and one command of a group may be
its default (``/sondage "Question ?" "A" "B"`` runs the group's default command). Matching is case-
and accent-insensitive.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias

from bot.commandspec import Args as Args
from bot.commandspec import CommandSpec as CommandSpec
from bot.commandspec import Option as Option
from bot.commandspec import OptionType as OptionType
from bot.commandspec import ReplyLike as ReplyLike
from bot.core import Choice, Role, TisserandError, UserError
from bot.i18n import Translator, fold
from bot.parsing import Quoted, join_words
from bot.parsing import convert as convert
from bot.parsing import parse_arguments as parse_arguments
from bot.parsing import split_words as split_words
from bot.parsing import structured_arguments as structured_arguments

if TYPE_CHECKING:
    from bot.context import Context


Handler: TypeAlias = Callable[["Context", "Args"], ReplyLike | Awaitable[ReplyLike]]


_SPEC_ATTR = "__tisserand_commands__"
_CHOICE_ATTR = "__tisserand_choice__"
_LISTENER_ATTR = "__tisserand_listener__"


def command(
    name: str,
    alias: str,
    help: str,
    *,
    options: Iterable[Option] = (),
    permission: Role = Role.MEMBER,
    group: str | None = None,
    group_alias: str | None = None,
    group_help: str | None = None,
    default: bool = False,
    examples: Iterable[str] = (),
    reserved_when: Callable[[Any], bool] | None = None,
) -> Callable[[Handler], Handler]:
    """Tag ``handler`` as a command. Nothing is registered until :meth:`Registry.build`."""

    def tag(handler: Handler) -> Handler:
        spec = CommandSpec(
            name=name,
            alias=alias,
            help=help,
            handler=handler,
            options=tuple(options),
            permission=permission,
            group=group,
            group_alias=group_alias,
            group_help=group_help,
            default=default,
            examples=tuple(examples),
            reserved_when=reserved_when,
        )
        specs: list[CommandSpec] = list(getattr(handler, _SPEC_ATTR, []))
        specs.append(spec)
        setattr(handler, _SPEC_ATTR, specs)
        return handler

    return tag


ChoiceHandler: TypeAlias = Callable[["Context", "re.Match[str]"], ReplyLike | Awaitable[ReplyLike]]


class StaleChoice(TisserandError):
    """Raised by a choice handler when a button's action no longer means anything (the poll
    changed mode, the option is gone): the dispatcher answers it, in one place, as it answers an
    action that matches no declared pattern."""


@dataclass(frozen=True, slots=True)
class ChoicePattern:
    """The buttons one handler answers: actions ``prefix:…`` that ``pattern`` matches whole."""

    prefix: str
    pattern: re.Pattern[str]
    handler: ChoiceHandler

    def match(self, action: str) -> re.Match[str] | None:
        return self.pattern.fullmatch(action)


def on_choice(prefix: str, pattern: str) -> Callable[[ChoiceHandler], ChoiceHandler]:
    """Tag ``handler`` as the one for the actions ``prefix:<pattern>``.

    ``pattern`` is a regular expression for what follows ``prefix:``, compiled here (a bad one
    fails at import, not at the first click) and matched against the whole action; the handler
    receives the match. Actions it does not match are answered by the dispatcher ("this button no
    longer does anything") without calling the handler. Action strings live on posted buttons:
    a pattern must keep matching every action the family ever posted.
    """
    if not prefix or ":" in prefix:
        raise InvalidSpecError(f"a choice prefix is one key segment, not {prefix!r}")
    try:
        compiled = re.compile(re.escape(prefix) + ":" + pattern, re.ASCII)
    except re.error as error:
        raise InvalidSpecError(f"the choice pattern of {prefix!r} is not valid: {error}") from None

    def tag(handler: ChoiceHandler) -> ChoiceHandler:
        setattr(handler, _CHOICE_ATTR, ChoicePattern(prefix, compiled, handler))
        return handler

    return tag


Autocompleter: TypeAlias = Callable[[Any, str, Any, Translator], Iterable[tuple[str, str]]]
"""(database session, partial text, actor, translator) -> (label, value) suggestions."""

_AUTOCOMPLETE_ATTR = "__tisserand_autocomplete__"


def autocompleter(kind: str) -> Callable[[Autocompleter], Autocompleter]:
    """Tag ``provider`` as the source of suggestions for options with ``autocomplete=kind``."""

    def tag(provider: Autocompleter) -> Autocompleter:
        setattr(provider, _AUTOCOMPLETE_ATTR, kind)
        return provider

    return tag


class InvalidSpecError(TisserandError):
    """A command spec is wrong: raised at start-up, before anything runs."""


@dataclass(slots=True)
class Resolved:
    spec: CommandSpec
    words: list[str]


@dataclass(slots=True)
class Registry:
    specs: list[CommandSpec] = field(default_factory=list)
    choice_handlers: dict[str, ChoicePattern] = field(default_factory=dict)
    autocompleters: dict[str, Autocompleter] = field(default_factory=dict)
    _top: dict[str, CommandSpec] = field(default_factory=dict)
    _groups: dict[str, dict[str, CommandSpec]] = field(default_factory=dict)
    _group_default: dict[str, CommandSpec] = field(default_factory=dict)
    _group_names: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, modules: Iterable[ModuleType]) -> Registry:
        """The registry of the tagged functions of ``modules``, each module in turn."""
        return cls.build_groups([module] for module in modules)

    @classmethod
    def build_groups(cls, groups: Iterable[Sequence[ModuleType]]) -> Registry:
        """The registry of several groups of modules (a family's handler modules form a group).

        Within a group, tagged functions are taken in the order of their names across all its
        modules, so splitting a family's handlers into several modules keeps the order users see
        (in ``/aide`` and in the Discord command list); a function found in two modules of a
        group (imported by one from the other) counts once.
        """
        registry = cls()
        for group in groups:
            seen: set[int] = set()
            named = sorted(
                (
                    (name, index, value)
                    for index, module in enumerate(group)
                    for name, value in vars(module).items()
                ),
                key=lambda item: (item[0], item[1]),
            )
            for _, _, value in named:
                if id(value) in seen:
                    continue
                seen.add(id(value))
                for spec in getattr(value, _SPEC_ATTR, []):
                    registry.add(spec)
                choice = getattr(value, _CHOICE_ATTR, None)
                if isinstance(choice, ChoicePattern):
                    if choice.prefix in registry.choice_handlers:
                        raise InvalidSpecError(f"two handlers for choices {choice.prefix!r}")
                    registry.choice_handlers[choice.prefix] = choice
                kind = getattr(value, _AUTOCOMPLETE_ATTR, None)
                if kind is not None:
                    if kind in registry.autocompleters:
                        raise InvalidSpecError(f"two autocompleters for {kind!r}")
                    registry.autocompleters[kind] = value
        return registry

    def add(self, spec: CommandSpec) -> None:
        self._check(spec)
        self.specs.append(spec)
        if spec.group is None:
            for key in {fold(spec.name), fold(spec.alias)}:
                if key in self._top or key in self._groups:
                    raise InvalidSpecError(f"command name {key!r} used twice")
                self._top[key] = spec
            return
        group_keys = (fold(spec.group), fold(spec.group_alias or spec.group))
        for key in group_keys:
            if key in self._top:
                raise InvalidSpecError(f"group {key!r} clashes with a command")
        known = self._group_names.get(group_keys[0])
        if known is not None and known != (spec.group, spec.group_alias or spec.group):
            raise InvalidSpecError(f"group {spec.group!r} declared with two aliases")
        self._group_names[group_keys[0]] = (spec.group, spec.group_alias or spec.group)
        members = self._groups.setdefault(group_keys[0], {})
        self._groups[group_keys[1]] = members
        for key in {fold(spec.name), fold(spec.alias)}:
            if key in members:
                raise InvalidSpecError(f"command {spec.group} {key!r} used twice")
            members[key] = spec
        if spec.default:
            if group_keys[0] in self._group_default:
                raise InvalidSpecError(f"group {spec.group!r} has two default commands")
            self._group_default[group_keys[0]] = spec
            self._group_default[group_keys[1]] = spec

    @staticmethod
    def _check(spec: CommandSpec) -> None:
        where = spec.qualified_name
        word = re.compile(r"^[a-z][a-z0-9-]*$")
        for name in (spec.name, spec.alias, spec.group or "a", spec.group_alias or "a"):
            if not word.match(name):
                raise InvalidSpecError(f"{where}: bad name {name!r} (lowercase ascii words)")
        if not spec.help.strip():
            raise InvalidSpecError(f"{where}: help is required")
        if spec.group and not spec.group_alias:
            raise InvalidSpecError(f"{where}: a group needs its English alias")
        seen: set[str] = set()
        variadic_seen = False
        for option in spec.options:
            for key in {option.name, option.alias}:
                if not word.match(key):
                    raise InvalidSpecError(f"{where}: bad option name {key!r}")
                if key in seen:
                    raise InvalidSpecError(f"{where}: option {key!r} used twice")
                seen.add(key)
            if not option.help.strip():
                raise InvalidSpecError(f"{where}: option {option.name} needs help")
            if option.variadic and not option.positional:
                raise InvalidSpecError(f"{where}: only positional options can be variadic")
            if option.positional and variadic_seen:
                raise InvalidSpecError(f"{where}: nothing may follow a variadic option")
            variadic_seen = variadic_seen or option.variadic or option.type is OptionType.TEXT
            if option.type is OptionType.CHOICE and not option.choices:
                raise InvalidSpecError(f"{where}: option {option.name} needs choices")
            if option.type is OptionType.FLAG and (option.positional or option.required):
                raise InvalidSpecError(f"{where}: a flag is never positional nor required")
        if not inspect.isfunction(spec.handler):
            raise InvalidSpecError(f"{where}: handler must be a function")

    def settle(self, settings: Any) -> None:
        """Make coordinator commands of the member commands the settings reserve
        (:attr:`CommandSpec.reserved_when`), so that every reader of ``permission`` agrees."""
        for index, spec in enumerate(self.specs):
            if spec.reserved or spec.reserved_when is None or not spec.reserved_when(settings):
                continue
            settled = dataclasses.replace(spec, permission=Role.COORDINATOR)
            self.specs[index] = settled
            for table in (self._top, self._group_default, *self._groups.values()):
                for key, value in table.items():
                    if value is spec:
                        table[key] = settled

    # --- lookup ------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every name a user may type, for suggestions."""
        return sorted(set(self._top) | set(self._groups))

    def find(self, name: str, sub: str | None = None) -> CommandSpec | None:
        key = fold(name.lstrip("/"))
        if key in self._top:
            return self._top[key]
        members = self._groups.get(key)
        if members is None:
            return None
        if sub is not None and fold(sub) in members:
            return members[fold(sub)]
        return self._group_default.get(key)

    def group_members(self, name: str) -> list[CommandSpec]:
        members = self._groups.get(fold(name.lstrip("/")), {})
        unique: dict[int, CommandSpec] = {id(s): s for s in members.values()}
        return list(unique.values())

    def resolve(self, words: list[str], t: Translator, *, is_coordinator: bool = True) -> Resolved:
        """Find the spec for the words of a command line; raise a helpful UserError otherwise.

        Subcommands come before free text: an unquoted first word close to a subcommand of the
        group (``/sondage resultat 5``) is answered "did you mean /sondage resultats 5?", with
        the corrected command as a choice, and nothing runs. ``is_coordinator`` False lists only
        the subcommands a member may use, and refuses a group that has none for them.
        """
        if not words or not words[0].strip("/"):
            raise UserError(t.gettext("Type a command after the slash, for example /help."))
        typed = words[0].lstrip("/")
        head = fold(typed)
        if head in self._top:
            return Resolved(self._top[head], words[1:])
        members = self._groups.get(head)
        if members is not None:
            if len(words) > 1 and fold(words[1]) in members:
                return Resolved(members[fold(words[1])], words[2:])
            visible = [s for s in self.group_members(head) if is_coordinator or not s.reserved]
            if len(words) > 1 and not isinstance(words[1], Quoted):
                self._suggest_subcommand(typed, words, visible, t)
            default = self._group_default.get(head)
            if default is not None:
                return Resolved(default, words[1:])
            if not visible:
                raise reserved_error(typed, t)
            subs = sorted({s.display_name(t.locale).split(" ", 1)[1] for s in visible})
            raise UserError(
                t.gettext(
                    "/{group} needs a subcommand: {subs}.",
                    group=typed,
                    subs=", ".join(subs),
                )
            )
        close = difflib.get_close_matches(head, self.names(), n=1, cutoff=0.6)
        if close:
            raise UserError(
                t.gettext(
                    "Unknown command /{name}. Did you mean /{suggestion}? Type /help for the list.",
                    name=typed,
                    suggestion=close[0],
                )
            )
        raise UserError(
            t.gettext(
                "Unknown command /{name}. Type /help for the list of commands.",
                name=typed,
            )
        )

    @staticmethod
    def _suggest_subcommand(
        group: str, words: list[str], visible: list[CommandSpec], t: Translator
    ) -> None:
        """Raise "did you mean" when ``words[1]`` is close to a subcommand ``visible`` holds."""
        word = fold(words[1])
        if not word.isalpha() or len(word) < 3:
            return
        names: dict[str, str] = {}
        for spec in visible:
            if spec.group is None:
                continue
            names.setdefault(fold(spec.name), spec.name)
            names.setdefault(fold(spec.alias), spec.alias)
        close = difflib.get_close_matches(word, list(names), n=1, cutoff=0.75)
        if not close and len(word) >= 4:
            close = [name for name in names if name.startswith(word)][:1]
        if not close:
            return
        corrected = "/" + join_words([group, names[close[0]], *words[2:]])
        action = RETYPE_PREFIX + ":" + corrected.removeprefix("/")
        choices: tuple[Choice, ...] = ()
        if len(action) <= MAX_ACTION:
            choices = (Choice(t.gettext("Yes, run {command}", command=corrected)[:80], action),)
        raise UserError(
            t.gettext(
                "Did you mean {command}? Nothing was done: check the command and send it again.",
                command=corrected,
            ),
            choices=choices,
        )

    def visible_to(self, is_coordinator: bool) -> list[CommandSpec]:
        return [s for s in self.specs if is_coordinator or not s.reserved]


RETYPE_PREFIX = "retype"
"""The actions of "did you mean" choices: ``retype:<command line>`` runs that line as typed."""
MAX_ACTION = 100
"""The longest action a choice carries (Discord's ``custom_id`` limit)."""


def reserved_error(command: str, t: Translator) -> UserError:
    """The one refusal of a coordinator command to a member, before anything is parsed."""
    return UserError(
        t.gettext(
            "Sorry, /{command} is reserved for the network's coordinators. If you "
            "think you should have access, ask a coordinator.",
            command=command,
        )
    )
