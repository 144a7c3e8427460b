"""The contract every chat platform implements.

A platform turns what its chat says into neutral events (:mod:`bot.core`) handed to the
``EventHandler`` given at :meth:`Platform.start`, and renders :class:`~bot.core.Reply` objects in its
native form. Each platform package also exports a :class:`PlatformKind`: how the runner configures,
builds and checks it (the table of them is ``bot.wiring.PLATFORMS``).

Errors: delivery problems raise :class:`~bot.core.DeliveryError` (with ``retry_after`` when the
platform said when to retry, ``permanent`` when retrying cannot help, and a portable ``code``:
``dm_closed`` makes the outbox tell the member in a channel instead); nothing else may escape
``deliver``, ``respond`` or ``edit``.

Mentions: a reply pings only the members in ``Reply.ping``; each platform writes their token
(``<@user_id>`` in the neutral text) in its own syntax. A platform may carry ``open_dm_help``, the
text telling a member how to open their direct messages there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar, runtime_checkable

from pydantic import BaseModel

from bot.core import Actor, Event, MessageRef, Reply, Target

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from bot.commandspec import CommandCatalog
    from bot.i18n import Translators

EventHandler = Callable[[Event], Awaitable[None]]


@runtime_checkable
class Platform(Protocol):
    name: str
    """``console``, ``rocketchat`` or ``discord``: the value of ``Actor.platform`` it produces."""

    async def start(self, handler: EventHandler) -> None:
        """Connect and begin handing events to ``handler``. Returns once connected."""

    async def stop(self) -> None:
        """Disconnect cleanly. Idempotent."""

    async def respond(self, event: Event, reply: Reply) -> MessageRef | None:
        """Answer ``event`` right away (interaction response, reply in the same channel, or a
        direct message when ``reply.target`` says so). Returns the posted message, if any."""

    async def deliver(self, reply: Reply, target: Target, token: str) -> MessageRef:
        """Post ``reply`` to ``target`` for the outbox.

        ``token`` is stable for one outbox row: delivering the same token twice must post at most
        one message (platform-side idempotency: Rocket.Chat message ``_id``, Discord ``nonce``
        with ``enforce_nonce``, the console's journal), so a crash between the send and its
        record never duplicates a message.
        """

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        """Replace the text and choices of an earlier bot message."""


# --- what the runner needs of each platform ------------------------------------------------------

Secrets: TypeAlias = Mapping[str, str | None]
"""A platform's secrets, read from the environment (``{"token": ...}``)."""
SettingsT = TypeVar("SettingsT", bound=BaseModel)


class PlatformHost(Protocol):
    """What a platform's builder may use of the running app (:class:`bot.app.App` is one)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def registry(self) -> CommandCatalog: ...

    @property
    def translators(self) -> Translators: ...

    async def autocomplete(
        self, command: str, option: str, partial: str, actor: Actor
    ) -> list[tuple[str, str]]:
        """Suggestions for an option being typed (25 at most)."""
        ...


@dataclass(frozen=True, slots=True)
class PlatformKind(Generic[SettingsT]):
    """One platform the bot can run on, as the runner sees it: the section of the configuration
    it reads, its secrets, how to build it and how ``check-config --online`` checks it.

    Importing a kind must stay cheap (the console never builds one): ``build`` and
    ``check_online`` import the platform's client library when they run."""

    name: str
    """The section of the configuration, and the platform's name (``Actor.platform``)."""
    settings: type[SettingsT]
    """The model of the section."""
    read_secrets: Callable[[], tuple[Secrets, list[tuple[str, str]]]]
    """The secrets from the environment, and a ``(key, problem)`` for each one missing (a
    secret file that cannot be read raises :class:`~bot.core.ConfigError`)."""
    build: Callable[[SettingsT, Secrets, PlatformHost], Platform]
    """The platform object, for the app that will run it."""
    check_online: Callable[[SettingsT, Secrets], Awaitable[None]]
    """Log in with the settings and secrets; :class:`~bot.core.ConfigError` naming what is wrong."""


AnyPlatformKind: TypeAlias = PlatformKind[Any]
