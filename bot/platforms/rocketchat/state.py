"""What the adapter remembers while it runs: bounded memories of the messages seen, and counters."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, TypeVar

_T = TypeVar("_T")


class Bounded(OrderedDict[str, _T]):
    """A mapping that forgets its oldest entries past ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: str, value: _T) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


@dataclass
class Memory:
    """The messages seen, shared by what reads them (events, catch-up) and what posts replies."""

    seen: Bounded[bool] = field(default_factory=lambda: Bounded[bool](20_000))
    """Every message id handled or posted (an update of one of them is never new)."""
    threads: Bounded[str] = field(default_factory=lambda: Bounded[str](5_000))
    """Message id -> the thread it was said in: replies go to the same thread."""
    marks: dict[str, int] = field(default_factory=dict)
    """Per room, the timestamp of the last message seen (where a catch-up reads from)."""
    origins: dict[int, list[Any]] = field(default_factory=dict)
    """``id(event)`` -> [origin message id, replies posted] while the event is handled."""
    start_cutoff: int = 0
    """The server's time (ms) at start, less a tolerance: an older message is not new."""


@dataclass
class Stats:
    """Counters for tests and benchmarks."""

    rate_limited: int = 0
    reconnections: int = 0
    caught_up: int = 0
    duplicates_avoided: int = 0
    replays_avoided: int = 0
    """Commands caught up after a restart that the previous run had already answered."""
    catch_up_truncated: int = 0
    """Rooms where a catch-up left older messages out (``catch_up_max_messages``)."""
    cursor_writes: int = 0
    """Transactions that stored cursors (see ``cursor_flush_interval``)."""
    handled_ids: deque[str] = field(default_factory=lambda: deque(maxlen=1000))
    """The last message ids handed to the handler."""
