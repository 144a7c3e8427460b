"""What the running adapter holds, shared by its incoming and outgoing halves: the client, the
interactions being answered and the messages posted through interaction tokens."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.core import DeliveryCode, Event
from bot.platforms.base import EventHandler
from bot.platforms.discord.transport import DiscordDeliveryError

INTERACTION_TOKEN_LIFETIME = 15 * 60.0

Interaction = discord.Interaction[discord.Client]


@dataclass(slots=True, eq=False)
class Pending:
    """An interaction whose event is being handled: how to answer it."""

    event: Event
    interaction: Interaction
    expires: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    timer: asyncio.Task[None] | None = None
    deferred_ephemeral: bool | None = None
    """Set when a "thinking" defer (type 5) was sent: whether it is ephemeral."""
    loading: bool = False
    """The deferred "thinking" message still waits for its content."""

    @property
    def is_component(self) -> bool:
        return self.interaction.type in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        )


@dataclass(slots=True)
class Sent:
    """A message posted through an interaction token: edited through the token while valid."""

    interaction: Interaction
    original: bool
    expires: float


class State:
    """The connection's state (set by the platform's start and stop)."""

    def __init__(self) -> None:
        self.client: discord.Client | None = None
        self.handler: EventHandler | None = None
        self.closing = False
        """Stopping: new events are ignored; those in hand may still answer."""
        self.pending: dict[int, Pending] = {}
        """``id(event)`` -> the interaction that made it."""
        self.sent: dict[int, Sent] = {}
        """Message id -> how it was posted, for messages posted through an interaction."""
        self.busy: set[asyncio.Task[Any]] = set()
        """The tasks handling an event (stop waits for them)."""

    def started_client(self) -> discord.Client:
        if self.client is None:
            raise DiscordDeliveryError(
                DeliveryCode.UNREACHABLE, "the Discord platform is not started"
            )
        return self.client

    def track(self) -> asyncio.Task[Any] | None:
        """Count the current task among the busy ones until it ends."""
        task = asyncio.current_task()
        if task is not None:
            self.busy.add(task)
            task.add_done_callback(self.busy.discard)
        return task

    def prune(self) -> None:
        """Forget the interactions whose token expired."""
        now = time.monotonic()
        for key in [k for k, p in self.pending.items() if p.expires < now]:
            del self.pending[key]
        for key in [k for k, s in self.sent.items() if s.expires < now]:
            del self.sent[key]


async def cancel(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (not the current one) and wait for it, whatever it raises."""
    if task is None or task is asyncio.current_task():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
