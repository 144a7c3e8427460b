"""Prometheus metrics of a running bot (``/metrics`` of :mod:`bot.web`), with the maintained
``prometheus_client`` library, on a registry of their own (one per app: tests run several).

Counted as they happen: events handled (by kind and platform), command latency, scheduled work
(duration and failures by name: the feed refresh, the outbox, the digests…), feed refreshes by
result. Read at each scrape (:class:`_StateCollector`, in a worker thread): the outbox by status
and the age of its oldest pending message, each platform's connection, the lease.

Imported only when ``[web]`` is enabled: ``prometheus_client`` is never loaded otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.storage.outbox import OutboxMessage, OutboxStatus


class Watched(Protocol):
    """What the metrics read of the app (:class:`bot.app.App`)."""

    sessions: sessionmaker[Session]
    clock: Clock
    platforms: dict[str, Any]
    started: bool
    services: dict[str, Any]


log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WORK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


def platform_connected(platform: Any) -> bool:
    """A platform's own ``connected`` when it has one (started platforms without one: True)."""
    return bool(getattr(platform, "connected", True))


class Metrics:
    def __init__(self, app: Watched, lease_held: Callable[[], bool]) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "tisserand_events",
            "Events handled, by kind (command, choice, message, reaction) and platform.",
            ["kind", "platform"],
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "tisserand_command_duration_seconds",
            "Time to handle a command or a button, until its replies are ready.",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.work_seconds = Histogram(
            "tisserand_scheduled_work_duration_seconds",
            "Duration of each run of scheduled work (feeds refresh, outbox, digests, ...).",
            ["work"],
            buckets=WORK_BUCKETS,
            registry=self.registry,
        )
        self.work_failures = Counter(
            "tisserand_scheduled_work_failures",
            "Runs of scheduled work that raised (logged; tried again).",
            ["work"],
            registry=self.registry,
        )
        self.feed_refreshes = Counter(
            "tisserand_feed_refreshes",
            "Feeds fetched, by result (updated, not_modified, failed, disabled).",
            ["result"],
            registry=self.registry,
        )
        self.registry.register(_StateCollector(app, lease_held))

    def event(self, kind: str, platform: str, seconds: float | None) -> None:
        self.events.labels(kind, platform).inc()
        if seconds is not None:
            self.command_seconds.labels(platform).observe(seconds)

    def scheduled(self, name: str, seconds: float, ok: bool) -> None:
        self.work_seconds.labels(name).observe(seconds)
        if not ok:
            self.work_failures.labels(name).inc()

    def feeds_refreshed(self, **counts: int) -> None:
        """``updated=…, not_modified=…, failed=…, disabled=…`` of one refresh."""
        for result, n in counts.items():
            if n:
                self.feed_refreshes.labels(result).inc(n)

    def exposition(self) -> bytes:
        """The text format (reads the database: call it in a worker thread)."""
        return generate_latest(self.registry)


class _StateCollector(Collector):
    def __init__(self, app: Watched, lease_held: Callable[[], bool]) -> None:
        self._app = app
        self._lease_held = lease_held

    def collect(self) -> Iterator[GaugeMetricFamily]:
        app = self._app
        outbox = GaugeMetricFamily(
            "tisserand_outbox_messages", "Outbox messages by status.", labels=["status"]
        )
        oldest = GaugeMetricFamily(
            "tisserand_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox message past its due time (0: none).",
        )
        try:
            with app.sessions() as db:
                counts = dict(
                    db.execute(
                        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                    ).all()
                )
                first: datetime | None = db.scalar(
                    select(func.min(OutboxMessage.due_at)).where(
                        OutboxMessage.status == OutboxStatus.PENDING
                    )
                )
        except Exception as exc:  # the scrape still answers; readyz says the database is down
            log.warning("metrics: cannot read the outbox: %s", exc)
        else:
            for status in OutboxStatus:
                outbox.add_metric([status.value], counts.get(status.value, 0))
            yield outbox
            age = 0.0
            if first is not None:
                age = max(0.0, (app.clock.now() - first).total_seconds())
            oldest.add_metric([], age)
            yield oldest
        connected = GaugeMetricFamily(
            "tisserand_platform_connected", "1 when the platform is connected.", labels=["platform"]
        )
        for name, platform in app.platforms.items():
            connected.add_metric([name], 1 if app.started and platform_connected(platform) else 0)
        yield connected
        lease = GaugeMetricFamily(
            "tisserand_lease_held", "1 when this instance holds the database lease (is active)."
        )
        lease.add_metric([], 1 if self._lease_held() else 0)
        yield lease
