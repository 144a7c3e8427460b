"""An in-memory platform for tests of the outbox and the app (not a chat fake)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core import DeliveryError, Event, MessageRef, Reply, Target
from bot.platforms.base import EventHandler


@dataclass
class RecordingPlatform:
    """Records what it posts; deduplicates deliveries on the token like a real platform."""

    name: str = "console"
    posted: list[tuple[Target | None, Reply, str | None]] = field(default_factory=list)
    failures: list[DeliveryError] = field(default_factory=list)
    crash_after_post: int = 0
    _tokens: dict[str, MessageRef] = field(default_factory=dict)

    async def start(self, handler: EventHandler) -> None:
        self.handler = handler

    async def stop(self) -> None:
        return None

    async def respond(self, event: Event, reply: Reply) -> MessageRef | None:
        self.posted.append((reply.target, reply, None))
        return MessageRef(self.name, event.place.channel_id, str(len(self.posted)))

    async def deliver(self, reply: Reply, target: Target, token: str) -> MessageRef:
        if token in self._tokens:
            return self._tokens[token]
        if self.failures:
            raise self.failures.pop(0)
        self.posted.append((target, reply, token))
        ref = MessageRef(self.name, "c", str(len(self.posted)))
        self._tokens[token] = ref
        if self.crash_after_post:
            self.crash_after_post -= 1
            raise KeyboardInterrupt("simulated crash after the platform accepted the message")
        return ref

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        self.posted.append((None, reply, f"edit:{ref.message_id}"))
