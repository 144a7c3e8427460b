"""The contract every chat platform implements.

A platform turns what its chat says into neutral events (:mod:`bot.core`) handed to the
``EventHandler`` given at :meth:`Platform.start`, and renders :class:`~bot.core.Reply` objects in its
native form. Platforms never import ``commands`` or ``digests``.

Errors: delivery problems raise :class:`~bot.core.DeliveryError` (with ``retry_after`` when the
platform said when to retry, ``permanent`` when retrying cannot help, and a portable ``code``:
``dm_closed`` makes the outbox tell the member in a channel instead); nothing else may escape
``deliver``, ``respond`` or ``edit``.

Mentions: a reply pings only the members in ``Reply.ping``; each platform writes their token
(``<@user_id>`` in the neutral text) in its own syntax. A platform may carry ``open_dm_help``, the
text telling a member how to open their direct messages there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from bot.core import Event, MessageRef, Reply, Target

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
