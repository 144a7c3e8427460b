"""The only module that touches APScheduler.

Scheduled work is derived from database state: each *due-work provider* tells when its next piece
of work falls due (``next_due``) and does the work that is due (``run``). The scheduler keeps one
in-memory APScheduler date job per provider with a stable id (``due:<name>``) and re-arms it after
each run and whenever the application says a provider's state changed. Nothing is pickled into the
database; a restart rebuilds every job from the database.

The clock is injected: with the console's movable clock, ``run_due`` runs every provider whose work
fell due at the moved time, and wake-ups are converted from clock time to real time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.core import InvalidValue

log = logging.getLogger(__name__)

NextDue = Callable[[], datetime | None]
Run = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class DueWork:
    name: str
    next_due: NextDue
    run: Run


class Scheduler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._work: dict[str, DueWork] = {}
        self._aps: AsyncIOScheduler | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self.on_run: Callable[[str, float, bool], None] | None = None
        """Told the name, the duration (seconds) and the success of each run (the metrics)."""

    def add_due_work(self, name: str, next_due: NextDue, run: Run) -> None:
        if name in self._work:
            raise InvalidValue(f"due work {name!r} registered twice")
        self._work[name] = DueWork(name, next_due, run)
        self._locks[name] = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._aps is not None

    async def start(self) -> None:
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._aps.start()
        for name in self._work:
            self.rearm(name)

    async def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None

    def _real_time(self, moment: datetime) -> datetime:
        """Clock time -> wall-clock time (they differ when the console moved its clock)."""
        offset = self._clock.now() - datetime.now(UTC)
        return moment - offset

    def rearm(self, *names: str) -> None:
        """Recompute the next wake-up of the given providers (all when none are named)."""
        if self._aps is None:
            return
        for name in names or tuple(self._work):
            work = self._work[name]
            due = work.next_due()
            job_id = f"due:{name}"
            if due is None:
                if self._aps.get_job(job_id) is not None:
                    self._aps.remove_job(job_id)
                continue
            run_at = max(self._real_time(due), datetime.now(UTC))
            self._aps.add_job(
                self._fire,
                "date",
                run_date=run_at,
                args=[name],
                id=job_id,
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=True,
            )

    async def _fire(self, name: str) -> None:
        await self.run_one(name)
        self.rearm(name)

    async def run_one(self, name: str) -> None:
        work = self._work[name]
        async with self._locks[name]:
            started = time.perf_counter()
            ok = True
            try:
                await work.run()
            except Exception:
                ok = False
                log.exception("scheduled work %s failed; it will be tried again", name)
            if self.on_run is not None:
                self.on_run(name, time.perf_counter() - started, ok)

    async def run_due(self, max_rounds: int = 100) -> None:
        """Run every provider whose work is due at the clock's now, until none is due."""
        for _ in range(max_rounds):
            now = self._clock.now()
            due = [w.name for w in self._work.values() if (d := w.next_due()) and d <= now]
            if not due:
                break
            for name in due:
                await self.run_one(name)
        self.rearm()
