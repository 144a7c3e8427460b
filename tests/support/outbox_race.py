"""Senders racing over one database: a platform that counts, and a sender process.

:class:`CountingPlatform` does NOT deduplicate on the delivery token (unlike
:class:`tests.support.platform.RecordingPlatform` and the real chats): a row delivered twice is
counted twice, so exactly-once has to come from the outbox's claim, not from the platform.

``python -c "from tests.support.outbox_race import main; main()" URL OUT GO`` is one sender
process: it connects, says it is ready (``OUT.ready``), waits for the file ``GO``, delivers what
is due, writing each token it delivered to ``OUT`` (one a line) as it goes. This module imports little, so
that thirty of them start quickly.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.clock import FrozenClock
from bot.core import DeliveryError, Event, MessageRef, Reply, Target
from bot.outbox import Sender
from bot.platforms.base import EventHandler
from bot.storage.engine import make_engine, make_session_factory

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@dataclass
class CountingPlatform:
    """Counts every delivery it is asked for (no deduplication on the token), slowly."""

    delivered: list[str]
    """The tokens delivered; one list may be shared by the platforms of several senders."""
    delay: float = 0.005
    name: str = "console"
    gate: asyncio.Event | None = None
    """When given, a delivery waits for it (a sender stuck mid-send)."""
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once a delivery has started."""
    fail_with: DeliveryError | None = None
    journal: TextIO | None = None
    """When given, each token is also written there as soon as it is delivered."""

    async def start(self, handler: EventHandler) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def respond(self, event: Event, reply: Reply) -> MessageRef | None:
        raise AssertionError("not used by the outbox")

    async def deliver(self, reply: Reply, target: Target, token: str) -> MessageRef:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        await asyncio.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        self.delivered.append(token)
        if self.journal is not None:
            self.journal.write(f"{token}\n")
            self.journal.flush()
        return MessageRef(self.name, "c", f"{id(self)}:{len(self.delivered)}")

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        raise AssertionError("not used by the outbox")


def main() -> None:
    url, out, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    engine = make_engine(url)
    with out.open("w", encoding="utf-8") as journal:
        platform = CountingPlatform([], journal=journal)
        sender = Sender(make_session_factory(engine), {"console": platform}, FrozenClock(START))
        with engine.connect():  # connected before the start, so that all start together
            pass
        out.with_suffix(".ready").write_text("ready")
        while not go.exists():
            time.sleep(0.005)
        report = asyncio.run(sender.deliver_due())
    print(report.sent)
    engine.dispose()
