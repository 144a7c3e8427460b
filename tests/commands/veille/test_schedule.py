"""The weekly slots of the digests (commands.veille.schedule), in the network's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from commands.veille.schedule import Schedule, latest_slot, next_slot, period_of

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def test_next_and_latest_slots_in_the_network_time_zone() -> None:
    monday_9 = Schedule(0, 9, 0)
    assert next_slot(paris(2026, 11, 23, 8, 59), monday_9, PARIS) == paris(2026, 11, 23, 9, 0)
    assert next_slot(paris(2026, 11, 23, 9, 0), monday_9, PARIS) == paris(2026, 11, 30, 9, 0)
    assert latest_slot(paris(2026, 11, 23, 9, 0), monday_9, PARIS) == paris(2026, 11, 23, 9, 0)
    assert latest_slot(paris(2026, 12, 9, 12, 0), monday_9, PARIS) == paris(2026, 12, 7, 9, 0)
    # Across the spring change of time the wall-clock time stays 9:00 (8:00 UTC -> 7:00 UTC).
    before = next_slot(paris(2027, 3, 23, 10, 0), monday_9, PARIS)
    assert before == paris(2027, 3, 29, 9, 0) == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    friday = Schedule(4, 16, 30)
    assert next_slot(paris(2026, 11, 27, 16, 29), friday, PARIS) == paris(2026, 11, 27, 16, 30)
    assert period_of(paris(2026, 11, 30, 9, 0), PARIS) == "2026-W49"
    assert period_of(paris(2027, 1, 1, 9, 0), PARIS) == "2026-W53"
