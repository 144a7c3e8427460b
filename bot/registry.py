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

import difflib
import inspect
import re
import shlex
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias

from bot.commandspec import CommandSpec as CommandSpec
from bot.commandspec import Option as Option
from bot.commandspec import OptionType as OptionType
from bot.commandspec import ReplyLike as ReplyLike
from bot.core import Role, TisserandError, UserError
from bot.i18n import Translator, fold

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


class Args(dict[str, Any]):
    """Parsed option values by canonical (French) name; missing optional options are None."""


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

    def resolve(self, words: list[str], t: Translator) -> Resolved:
        """Find the spec for the words of a command line; raise a helpful UserError otherwise."""
        if not words or not words[0].strip("/"):
            raise UserError(t.gettext("Type a command after the slash, for example /help."))
        head = fold(words[0].lstrip("/"))
        if head in self._top:
            return Resolved(self._top[head], words[1:])
        members = self._groups.get(head)
        if members is not None:
            if len(words) > 1 and fold(words[1]) in members:
                return Resolved(members[fold(words[1])], words[2:])
            default = self._group_default.get(head)
            if default is not None:
                return Resolved(default, words[1:])
            subs = sorted(
                {s.display_name(t.locale).split(" ", 1)[1] for s in self.group_members(head)}
            )
            raise UserError(
                t.gettext(
                    "/{group} needs a subcommand: {subs}.",
                    group=words[0].lstrip("/"),
                    subs=", ".join(subs),
                )
            )
        close = difflib.get_close_matches(head, self.names(), n=1, cutoff=0.6)
        if close:
            raise UserError(
                t.gettext(
                    "Unknown command /{name}. Did you mean /{suggestion}? Type /help for the list.",
                    name=words[0].lstrip("/"),
                    suggestion=close[0],
                )
            )
        raise UserError(
            t.gettext(
                "Unknown command /{name}. Type /help for the list of commands.",
                name=words[0].lstrip("/"),
            )
        )

    def visible_to(self, is_coordinator: bool) -> list[CommandSpec]:
        return [s for s in self.specs if is_coordinator or s.permission is Role.MEMBER]


# --- text parsing ------------------------------------------------------------------------------

_QUOTES = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "’": "'"})
_NUMBER = re.compile(r"^(?:n[°o]\s*|#)?(\d{1,9})$", re.IGNORECASE)


def split_words(line: str, t: Translator) -> list[str]:
    """Shell-like split; French quotes are accepted; an unclosed quote is a user error."""
    text = line.strip().translate(_QUOTES)
    text = re.sub(r"(?i)\bn°\s+(\d)", r"n°\1", text)
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=False)
        lexer.whitespace_split = True
        lexer.escape = ""
        lexer.commenters = ""
        lexer.quotes = '"'
        return [word.strip() for word in lexer]
    except ValueError:
        raise UserError(
            t.gettext('A quotation mark is not closed. Put each text between "double quotes".')
        ) from None


def parse_arguments(spec: CommandSpec, words: list[str], t: Translator) -> Args:
    """Read option values from ``words`` according to ``spec``."""
    by_key: dict[str, Option] = {}
    for option in spec.options:
        if not option.positional:
            by_key[fold(option.name)] = option
            by_key[fold(option.alias)] = option
    positionals = [o for o in spec.options if o.positional]
    args = Args()
    free: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word.startswith("--") and len(word) > 2:
            key, _, inline = word[2:].partition("=")
            found = by_key.get(fold(key))
            if found is None:
                raise _usage_error(spec, t, t.gettext("Unknown option --{option}.", option=key))
            option = found
            if option.type is OptionType.FLAG:
                if inline:
                    raise _usage_error(spec, t, t.gettext("--{option} takes no value.", option=key))
                args[option.name] = True
            else:
                if inline:
                    value = inline
                elif index + 1 < len(words):
                    index += 1
                    value = words[index]
                else:
                    raise _usage_error(spec, t, t.gettext("--{option} needs a value.", option=key))
                args[option.name] = convert(option, value, t, spec)
        else:
            free.append(word)
        index += 1
    for option in positionals:
        if option.variadic:
            values = [convert(option, w, t, spec) for w in free]
            free = []
            if len(values) < option.min_count:
                raise _usage_error(
                    spec,
                    t,
                    t.ngettext(
                        "{label} needs at least {n} value.",
                        "{label} needs at least {n} values.",
                        option.min_count,
                        label=_label(option, t),
                    ),
                )
            if option.max_count is not None and len(values) > option.max_count:
                raise _usage_error(
                    spec,
                    t,
                    t.ngettext(
                        "{label} takes at most {n} value.",
                        "{label} takes at most {n} values.",
                        option.max_count,
                        label=_label(option, t),
                    ),
                )
            args[option.name] = values if values else option.default
        elif option.type is OptionType.TEXT:
            args[option.name] = " ".join(free) if free else option.default
            free = []
        elif free:
            args[option.name] = convert(option, free.pop(0), t, spec)
    if free:
        raise _usage_error(spec, t, t.gettext("Too many words: {words}.", words=" ".join(free)))
    for option in spec.options:
        if option.name not in args or args[option.name] is None:
            if option.required:
                raise _usage_error(
                    spec, t, t.gettext("{label} is missing.", label=_label(option, t))
                )
            args[option.name] = False if option.type is OptionType.FLAG else option.default
    return args


def _label(option: Option, t: Translator) -> str:
    name = option.name if t.locale == "fr" else option.alias
    return f"<{name}>" if option.positional else f"--{name}"


def _usage_error(spec: CommandSpec, t: Translator, problem: str) -> UserError:
    usage = spec.usage(t)
    return UserError(problem + "\n" + t.gettext("Usage: {usage}", usage=usage), usage=usage)


def convert(option: Option, value: Any, t: Translator, spec: CommandSpec | None = None) -> Any:
    """Convert one raw value to the option's type; structured platforms call this too."""
    if option.type in (OptionType.STRING, OptionType.TEXT):
        text = str(value).strip()
        if not text and option.required:
            problem = t.gettext("{label} is empty.", label=_label(option, t))
            raise _usage_error(spec, t, problem) if spec else UserError(problem)
        return text
    if option.type is OptionType.INTEGER:
        if isinstance(value, int):
            return value
        match = _NUMBER.match(str(value).strip())
        if not match:
            problem = t.gettext(
                "{label} must be a number, for example 12 (got “{value}”).",
                label=_label(option, t),
                value=value,
            )
            raise _usage_error(spec, t, problem) if spec else UserError(problem)
        return int(match.group(1))
    if option.type is OptionType.FLAG:
        return bool(value)
    if option.type is OptionType.CHANNEL:
        return str(value).strip().lstrip("#")
    if option.type is OptionType.USER:
        return str(value).strip().lstrip("@")
    if option.type is OptionType.CHOICE:
        folded = fold(str(value).strip())
        for choice in option.choices:
            if fold(choice) == folded:
                return choice
        problem = t.gettext(
            "{label} must be one of: {choices}.",
            label=_label(option, t),
            choices=", ".join(option.choices),
        )
        raise _usage_error(spec, t, problem) if spec else UserError(problem)
    raise AssertionError(option.type)  # pragma: no cover


def structured_arguments(spec: CommandSpec, values: dict[str, Any], t: Translator) -> Args:
    """Options already split by the platform (Discord): convert and check them."""
    args = Args()
    for option in spec.options:
        raw = values.get(option.name, values.get(option.alias))
        if raw is None:
            if option.required:
                raise _usage_error(
                    spec, t, t.gettext("{label} is missing.", label=_label(option, t))
                )
            args[option.name] = False if option.type is OptionType.FLAG else option.default
        elif option.variadic:
            items = raw if isinstance(raw, list) else split_words(str(raw), t)
            args[option.name] = [convert(option, w, t, spec) for w in items]
        else:
            args[option.name] = convert(option, raw, t, spec)
    return args
