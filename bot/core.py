"""The neutral model shared by every platform and every command family.

Platforms translate what they receive into the events below and render :class:`Reply` objects in
their own native form. Nothing here knows about a chat library.

Contract:

- every datetime crossing this module is timezone-aware, in UTC;
- identifiers (``user_id``, ``channel_id``, ``message_id``) are the platform's own, as strings;
- text in a :class:`Reply` is written in the small neutral Markdown subset documented in
  ``docs/design.md`` (``**bold**``, ``*italic*``, ``[label](url)``, lists, line breaks); each
  platform turns it into its own flavour;
- a member the bot means to ping is written ``<@user_id>`` in that text (:attr:`Mention.token`)
  *and* listed in :attr:`Reply.ping`; each platform writes the mention in its own syntax and
  notifies those members only. The same characters for anyone not listed stay plain text.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, TypeVar


class Role(enum.StrEnum):
    """What an actor may do. Roles come from the configuration of each platform."""

    MEMBER = "member"
    COORDINATOR = "coordinator"


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone who acts in a chat: a member or a coordinator, on one platform."""

    platform: str
    user_id: str
    display_name: str
    roles: frozenset[Role] = frozenset({Role.MEMBER})
    locale: str | None = None
    is_bot: bool = False

    @property
    def is_coordinator(self) -> bool:
        return Role.COORDINATOR in self.roles


@dataclass(frozen=True, slots=True)
class Place:
    """Where something is said: a channel, or a direct conversation with the bot."""

    platform: str
    channel_id: str
    name: str
    is_direct: bool = False


@dataclass(frozen=True, slots=True)
class MessageRef:
    """What a platform returned for a posted message, enough to edit it or point at it later."""

    platform: str
    channel_id: str
    message_id: str


# --- incoming events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """A plain message said in a place (not a command)."""

    actor: Actor
    place: Place
    text: str
    ref: MessageRef
    at: datetime


@dataclass(frozen=True, slots=True)
class CommandEvent:
    """A command invoked by an actor.

    ``text`` is the command line as typed, without its prefix (``sondage "A ?" "B"``) for text
    platforms; platforms with structured commands (Discord) give ``name`` and ``options``
    already parsed and leave ``text`` empty.
    """

    actor: Actor
    place: Place
    at: datetime
    text: str = ""
    name: str | None = None
    options: dict[str, Any] | None = None
    ref: MessageRef | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class ChoiceEvent:
    """An actor picked a choice carried by a bot message (button, select, reaction, ``:click``)."""

    actor: Actor
    place: Place
    at: datetime
    action: str
    """The ``Choice.action`` of the choice picked: what it acts on (``poll:12:vote:3``)."""
    ref: MessageRef | None = None
    values: tuple[str, ...] = ()
    """Extra values for select menus that pick several items at once."""


@dataclass(frozen=True, slots=True)
class ReactionEvent:
    """An actor added (or removed) an emoji reaction on a message."""

    actor: Actor
    place: Place
    at: datetime
    ref: MessageRef
    emoji: str
    added: bool = True
    message_author: Actor | None = None
    message_text: str | None = None


Event = MessageEvent | CommandEvent | ChoiceEvent | ReactionEvent

_T = TypeVar("_T")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL (PostgreSQL refuses it in text) and lone surrogates (cannot be encoded in UTF-8)."""


def storable_text(text: str) -> str:
    """``text`` with each character no database could store replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value) if _UNSTORABLE.search(value) else value
    if isinstance(value, tuple):
        cleaned = tuple(_storable(item) for item in value)
        return value if all(a is b for a, b in zip(cleaned, value, strict=True)) else cleaned
    if isinstance(value, dict):
        items = {key: _storable(item) for key, item in value.items()}
        return value if all(items[key] is item for key, item in value.items()) else items
    if isinstance(value, Actor | Place | MessageRef):
        return storable(value)
    return value


def storable(value: _T) -> _T:
    """``value`` (an event, or one of its parts) with every text made storable.

    Platforms hand over what people typed as it came: a NUL sent through Discord's or Rocket.Chat's
    API, or a lone surrogate, would make the database refuse the member's name or the poll's
    question and lose the whole event. The application runs every event through this once, so no
    family has to think about it. An event with nothing to clean is returned as is.
    """
    changes = {}
    for field in fields(value):  # type: ignore[arg-type]
        current = getattr(value, field.name)
        cleaned = _storable(current)
        if cleaned is not current:
            changes[field.name] = cleaned
    return replace(value, **changes) if changes else value  # type: ignore[type-var]


# --- outgoing --------------------------------------------------------------------------------


class ChoiceStyle(enum.StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    SUCCESS = "success"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class TextPrompt:
    """What a choice that asks for text shows: the field's ``label`` and its ``max_length``."""

    label: str
    max_length: int = 1000


@dataclass(frozen=True, slots=True)
class Choice:
    """A choice offered under a message; picking it sends a :class:`ChoiceEvent` with ``action``.

    With ``asks_text``, the platform asks for a text first where it can (Discord: a button that
    opens a modal) and the event carries it in ``values``; platforms without such a form leave
    the choice out, the text comes by their usual path (a private message, a command).
    """

    label: str
    action: str
    style: ChoiceStyle = ChoiceStyle.SECONDARY
    emoji: str | None = None
    asks_text: TextPrompt | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message (.ics, .csv, .html, images)."""

    filename: str
    media_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class DirectTarget:
    """Send to an actor in a direct conversation."""

    platform: str
    user_id: str
    fallback_channel_id: str | None = None
    """A channel where this member acts, on the same platform: if their direct messages turn out
    to be closed, a short notice that mentions them only is posted there instead (see
    :class:`bot.outbox.Sender`). None: the failure is only recorded."""


@dataclass(frozen=True, slots=True)
class PlaceTarget:
    """Send to a channel."""

    platform: str
    channel_id: str


Target = DirectTarget | PlaceTarget


@dataclass(frozen=True, slots=True)
class Mention:
    """A member a :class:`Reply` means to ping (and the only kind of ping it may carry)."""

    user_id: str
    name: str
    """Their display name, for platforms that write mentions by name."""

    @property
    def token(self) -> str:
        """How the mention is written in the neutral text: ``<@user_id>``."""
        return f"<@{self.user_id}>"


def render_mentions(text: str, ping: Iterable[Mention], write: Callable[[Mention], str]) -> str:
    """``text`` with the token of each member of ``ping`` written by ``write`` (a platform's own
    syntax: ``@alice`` on the console and Rocket.Chat)."""
    for mention in ping:
        text = text.replace(mention.token, write(mention))
    return text


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers. ``target`` None means: the place the event came from."""

    text: str
    choices: tuple[Choice, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    target: Target | None = None
    ephemeral: bool = False
    """Visible to the actor only (Discord ephemeral; elsewhere a direct message)."""
    edit: MessageRef | None = None
    """Edit this earlier bot message instead of posting a new one."""
    mentions: bool = False
    """True only when the bot means to ping someone; user text never pings the crowd."""
    ping: tuple[Mention, ...] = ()
    """Members this reply pings, and only them (their :attr:`Mention.token` is in ``text``);
    nobody else is notified, even with ``mentions`` False."""

    def without_text_choices(self) -> Reply:
        """This reply without the choices that ask for text (platforms without a form)."""
        if all(c.asks_text is None for c in self.choices):
            return self
        kept = tuple(c for c in self.choices if c.asks_text is None)
        return replace(self, choices=kept)

    def to_payload(self) -> dict[str, Any]:
        """A JSON-safe form, stored in the outbox."""
        import base64

        payload: dict[str, Any] = {
            "text": self.text,
            "choices": [_choice_payload(c) for c in self.choices],
            "attachments": [
                {
                    "filename": a.filename,
                    "media_type": a.media_type,
                    "data": base64.b64encode(a.data).decode("ascii"),
                }
                for a in self.attachments
            ],
            "mentions": self.mentions,
        }
        if self.ping:
            payload["ping"] = [{"user_id": m.user_id, "name": m.name} for m in self.ping]
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any], target: Target | None = None) -> Reply:
        import base64

        return cls(
            text=str(payload["text"]),
            choices=tuple(
                Choice(
                    label=c["label"],
                    action=c["action"],
                    style=ChoiceStyle(c.get("style", "secondary")),
                    emoji=c.get("emoji"),
                    asks_text=(
                        TextPrompt(str(c["asks_text"]["label"]), int(c["asks_text"]["max_length"]))
                        if c.get("asks_text")
                        else None
                    ),
                )
                for c in payload.get("choices", [])
            ),
            attachments=tuple(
                Attachment(
                    filename=a["filename"],
                    media_type=a["media_type"],
                    data=base64.b64decode(a["data"]),
                )
                for a in payload.get("attachments", [])
            ),
            target=target,
            mentions=bool(payload.get("mentions", False)),
            ping=tuple(
                Mention(user_id=str(m["user_id"]), name=str(m.get("name") or m["user_id"]))
                for m in payload.get("ping") or ()
            ),
        )


def _choice_payload(choice: Choice) -> dict[str, Any]:
    found: dict[str, Any] = {
        "label": choice.label,
        "action": choice.action,
        "style": choice.style.value,
        "emoji": choice.emoji,
    }
    if choice.asks_text is not None:
        found["asks_text"] = {
            "label": choice.asks_text.label,
            "max_length": choice.asks_text.max_length,
        }
    return found


# --- what a family shows in the gazette --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExtraEntry:
    """An item a family offers the gazette (a session held, a closed poll, a veille item).

    A family declares where they come from in its :class:`bot.family.Family` (``gazette``);
    ``kind`` is the item kind stored in the gazette's items; ``details`` are lines already
    translated; ``value`` feeds charts (attendance for sessions).
    """

    kind: str
    ref_id: int
    title: str
    at: datetime | None = None
    details: tuple[str, ...] = ()
    link: str | None = None
    value: int | None = None


# --- errors ----------------------------------------------------------------------------------


class TisserandError(Exception):
    """Root of every error Tisserand raises on purpose."""


class InvalidValue(TisserandError, ValueError):
    """A value outside what a function accepts (a caller's mistake, or a validator's refusal)."""


class InvalidCall(TisserandError, TypeError):
    """A function called with arguments that do not go together."""


class InvalidState(TisserandError, RuntimeError):
    """Something that cannot happen when the data is consistent (a broken invariant)."""


class NotFound(TisserandError, LookupError):
    """What was looked up does not exist."""


class UserError(TisserandError):
    """Something the user can fix. ``message`` is already translated into the actor's language."""

    def __init__(
        self, message: str, *, usage: str | None = None, choices: tuple[Choice, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.choices = choices
        """Offered with the message (the corrected command of a "did you mean")."""


class ConfigError(TisserandError):
    """A problem with the configuration; ``problems`` are ``(key, explanation)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems))
        self.problems = problems


class DeliveryCode(enum.StrEnum):
    """Why a platform could not deliver a message, in words every platform shares."""

    DM_CLOSED = "dm_closed"
    """The member does not accept direct messages from the bot (permanent)."""
    UNKNOWN_TARGET = "unknown_target"
    """No such channel, member or message (permanent)."""
    RATE_LIMITED = "rate_limited"
    """The platform asked to slow down; ``retry_after`` says for how long when it said."""
    UNREACHABLE = "unreachable"
    """The platform could not be reached, or failed on its side (transient)."""
    REJECTED = "rejected"
    """The platform refused the message or the action itself (permanent)."""


class DeliveryError(TisserandError):
    """A platform could not deliver a message.

    ``retry_after`` (seconds) is set when the platform said when to try again; ``permanent`` is
    True when retrying cannot help (unknown channel, direct messages closed). ``code``, when the
    platform knows it, says why in portable terms (:class:`DeliveryCode`); the outbox acts on
    :attr:`DeliveryCode.DM_CLOSED`.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        code: DeliveryCode | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.code = code


class DatabaseTooNewError(TisserandError):
    """The database was written by a newer Tisserand; nothing is touched."""

    def __init__(self, revision: str) -> None:
        super().__init__(
            f"the database is at schema revision {revision}, which this version of Tisserand "
            "does not know: it was written by a newer version. Upgrade Tisserand; nothing was "
            "changed."
        )
        self.revision = revision


class ForeignDatabaseError(TisserandError):
    """The database holds tables but no schema revision of Tisserand: it belongs to another
    application, and nothing is touched."""

    def __init__(self, tables: list[str]) -> None:
        super().__init__(
            "the database holds tables of another application ("
            + ", ".join(tables[:5])
            + "); nothing was changed"
        )
        self.tables = tables
