"""What a command is, in neutral terms: its options and its spec.

The registry (:mod:`bot.registry`) builds and checks them, ``/aide`` prints them, and a platform
that publishes commands (Discord's application commands) reads them through
:class:`CommandCatalog` without depending on the registry.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

from bot.core import Reply, Role
from bot.i18n import N_, Translator


class OptionType(enum.StrEnum):
    STRING = "string"
    TEXT = "text"
    """A free text: as positional, it takes every remaining word."""
    INTEGER = "integer"
    """A whole number; ``n°12``, ``#12`` and ``12`` are all read as 12."""
    FLAG = "flag"
    """A boolean switch: ``--anonyme``."""
    CHANNEL = "channel"
    USER = "user"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class Option:
    name: str
    """French canonical name (``quand``)."""
    alias: str
    """English alias (``when``)."""
    help: str
    """English msgid of the help text."""
    type: OptionType = OptionType.STRING
    required: bool = False
    positional: bool = False
    variadic: bool = False
    """Positional only: takes all remaining positional words (a list)."""
    choices: tuple[str, ...] = ()
    default: Any = None
    min_count: int = 0
    max_count: int | None = None
    autocomplete: str | None = None
    """For numbers of things (``poll``, ``session``, ``source``...): platforms that can suggest
    values (Discord autocomplete) ask the app for the open ones of that kind."""


class Args(dict[str, Any]):
    """Parsed option values by canonical (French) name; missing optional options are None."""


ReplyLike: TypeAlias = Reply | Sequence[Reply] | None
SpecHandler: TypeAlias = Callable[[Any, Any], ReplyLike | Awaitable[ReplyLike]]
"""``(context, args)``; :data:`bot.registry.Handler` gives the precise types to command modules."""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    alias: str
    help: str
    handler: SpecHandler
    options: tuple[Option, ...] = ()
    permission: Role = Role.MEMBER
    group: str | None = None
    group_alias: str | None = None
    group_help: str | None = None
    default: bool = False
    """Run this command when its group is called without a known subcommand."""
    examples: tuple[str, ...] = ()
    reserved_when: Callable[[Any], bool] | None = None
    """For a member command that the settings may reserve (``[polls] creators``): called with
    the running settings at start-up; True makes it a coordinator command everywhere (dispatch,
    ``/aide``, Discord's command list)."""

    @property
    def reserved(self) -> bool:
        """For the coordinators only: a member is refused before anything is parsed."""
        return self.permission is Role.COORDINATOR

    @property
    def qualified_name(self) -> str:
        return f"{self.group} {self.name}" if self.group else self.name

    def display_name(self, locale: str) -> str:
        if locale == "fr":
            return self.qualified_name
        if self.group:
            return f"{self.group_alias} {self.alias}"
        return self.alias

    def usage(self, t: Translator) -> str:
        fr = t.locale == "fr"
        parts = ["/" + self.display_name(t.locale)]
        if self.default and self.group:
            parts = ["/" + (self.group if fr else (self.group_alias or self.group))]
        for option in self.options:
            label = option.name if fr else option.alias
            if option.positional:
                word = f"<{label}>" + ("..." if option.variadic else "")
                needed = option.required or option.min_count > 0
                parts.append(word if needed else f"[{word}]")
            elif option.type is OptionType.FLAG:
                parts.append(f"[--{label}]")
            else:
                word = f"--{label} <{t.gettext(_TYPE_WORDS[option.type])}>"
                parts.append(word if option.required else f"[{word}]")
        return " ".join(parts)


_TYPE_WORDS = {
    OptionType.STRING: N_("value"),
    OptionType.TEXT: N_("text"),
    OptionType.INTEGER: N_("number"),
    OptionType.CHANNEL: N_("#channel"),
    OptionType.USER: N_("@member"),
    OptionType.CHOICE: N_("choice"),
    OptionType.FLAG: "",
}


class CommandCatalog(Protocol):
    """What a platform may read of the commands: every spec, in order, and a lookup by name
    (:class:`bot.registry.Registry` is one)."""

    @property
    def specs(self) -> Sequence[CommandSpec]: ...

    def find(self, name: str, sub: str | None = None) -> CommandSpec | None:
        """The spec of ``name`` (a command or a group, ``sub`` its subcommand or its default);
        None when there is none."""
        ...
