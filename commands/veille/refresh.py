"""Periodic refresh of the feed sources.

Each source has its own ``next_fetch_at``; :func:`next_refresh_due` gives the earliest one, so the
scheduler wakes exactly when a source falls due, also after a restart. :func:`refresh_all`
fetches the sources that are due (or all of them) with bounded concurrency and stores what is new.

Per source:

- the request is conditional (ETag, Last-Modified): a 304 stores nothing;
- after a success the next fetch is ``interval`` later (the source's own interval, else
  ``[feeds] refresh_minutes``), or later still when Cache-Control's max-age asks (at most a day);
- a failure is recorded on the source (``last_error``, a machine-readable code) and the next try
  is delayed exponentially (``retry_base_minutes`` doubling, at most a day, with jitter), or by
  Retry-After when the server said so and that is later (429, 503; at most a week): a failing
  source may be tried again sooner than its interval, never sooner than its server asked;
- after ``max_failures`` consecutive failures the source is disabled, and so is a source whose
  server answers 410 Gone; the coordinator who added it gets a direct message (through the
  outbox), or the source's channel when that member is unknown;
- a permanent redirect (301/308 all the way) updates the stored URL.

One source's failure never stops the others: every error is caught and recorded on its source.
Outcomes are recorded in batches, one transaction each, in a worker thread; plain 304 answers
(most of a pass) with one executemany UPDATE per batch.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import FeedSettings, Settings
from bot.core import DirectTarget, PlaceTarget, Reply, Target
from bot.i18n import Translators
from bot.outbox import enqueue
from bot.storage.members import Member
from bot.storage.veille import FeedSource
from commands.veille.error_codes import error_code
from commands.veille.messages import disabled_source_text
from commands.veille.store import store_entries
from digests.feeds import FeedParseError, FeedParser, ParsedFeed, looks_like_html
from digests.urls import FetchError, canonical_url

if TYPE_CHECKING:  # digests.fetcher (httpx) is imported when the first feed is fetched
    from digests.fetcher import Fetcher, FetchPolicy, FetchResult

log = logging.getLogger(__name__)

__all__ = [
    "RefreshHost",
    "RefreshReport",
    "feed_parser",
    "fetch_policy",
    "next_refresh_due",
    "record_failure",
    "record_not_modified",
    "record_not_modified_many",
    "record_success",
    "refresh_all",
    "success_delay",
]

MAX_CACHE_DELAY = timedelta(days=1)
MAX_RETRY_DELAY = timedelta(days=1)
MAX_SERVER_DELAY = timedelta(days=7)
"""Longest Retry-After honoured; a server asking for more is retried after a week."""

Progress = Callable[[int, int], None]
BATCH = 64
"""Most sources recorded in one transaction."""
BATCH_WAIT = 0.05
"""How long a batch waits for more outcomes (seconds): one transaction instead of many."""


class RefreshHost(Protocol):
    """What a refresh needs from the application (:class:`bot.app.App` has it all)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def settings(self) -> Settings: ...


@dataclass(slots=True)
class RefreshReport:
    checked: int = 0
    updated: int = 0
    """Sources fetched with a new body (whether or not it had new entries)."""
    not_modified: int = 0
    failed: int = 0
    disabled: int = 0
    new_entries: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    """``(source id, error code)`` of each failure."""


def fetch_policy(settings: Settings) -> FetchPolicy:
    from digests.fetcher import FetchPolicy

    return FetchPolicy(
        allow_private_networks=settings.feeds.allow_private_networks,
        max_concurrency=settings.feeds.concurrency,
    )


def feed_parser(settings: Settings, *, processes: int | None = None) -> FeedParser:
    feeds = settings.feeds
    return FeedParser(
        processes=feeds.parse_processes if processes is None else processes,
        timeout=feeds.parse_timeout_seconds,
        max_entries=feeds.max_entries_per_feed,
    )


# --- recording outcomes ------------------------------------------------------------------------


def success_delay(
    interval_minutes: int | None, max_age: timedelta | None, feeds: FeedSettings
) -> timedelta:
    """Delay before the next fetch after a success: the source's interval (else ``[feeds]
    refresh_minutes``), or Cache-Control's max-age when that is later (at most a day)."""
    delay = timedelta(minutes=interval_minutes or feeds.refresh_minutes)
    if max_age is not None:
        delay = max(delay, min(max_age, MAX_CACHE_DELAY))
    return delay


def _clip(value: str | None, size: int) -> str | None:
    return value[:size] if value else None


def _after_success(
    source: FeedSource, result: FetchResult, now: datetime, feeds: FeedSettings
) -> None:
    if result.permanent_url and result.permanent_url != source.url:
        _move(source, result.permanent_url)
    source.etag = _clip(result.etag, 500)
    source.last_modified = _clip(result.last_modified, 100)
    source.failures = 0
    source.last_error = None
    source.last_fetched_at = now
    source.last_success_at = now
    source.next_fetch_at = now + success_delay(source.interval_minutes, result.max_age, feeds)


def _move(source: FeedSource, url: str) -> None:
    """Follow a permanent redirect, unless the channel already has a source there."""
    from sqlalchemy.orm import object_session

    db = object_session(source)
    canonical = canonical_url(url)
    if db is not None and canonical != source.canonical:
        clash = db.scalar(
            select(FeedSource.id).where(
                FeedSource.platform == source.platform,
                FeedSource.channel_id == source.channel_id,
                FeedSource.canonical == canonical,
                FeedSource.id != source.id,
            )
        )
        if clash is not None:
            log.info("source %s: permanent redirect to a source already there", source.id)
            return
    log.info("source %s moved permanently: %s -> %s", source.id, source.url, url)
    source.url = url[:2000]
    source.canonical = canonical[:2000]


_SOURCES: Table = FeedSource.__table__  # type: ignore[assignment]
_NOT_MODIFIED = (
    update(_SOURCES)
    .where(_SOURCES.c.id == bindparam("b_id"), _SOURCES.c.enabled.is_(True))
    .values(
        etag=bindparam("b_etag", type_=_SOURCES.c.etag.type),
        last_modified=bindparam("b_last_modified", type_=_SOURCES.c.last_modified.type),
        failures=0,
        last_error=None,
        last_fetched_at=bindparam("b_now", type_=_SOURCES.c.last_fetched_at.type),
        last_success_at=bindparam("b_now", type_=_SOURCES.c.last_success_at.type),
        next_fetch_at=bindparam("b_next", type_=_SOURCES.c.next_fetch_at.type),
    )
)


def record_success(
    db: Session,
    source: FeedSource,
    result: FetchResult,
    parsed: ParsedFeed,
    now: datetime,
    feeds: FeedSettings,
) -> int:
    """A feed was fetched and parsed: store its new entries; returns how many."""
    _after_success(source, result, now, feeds)
    if parsed.title:
        source.title = parsed.title[:300]
    if parsed.site_url:
        source.site_url = parsed.site_url[:2000]
    return store_entries(db, source, parsed, now)


def record_not_modified(
    source: FeedSource, result: FetchResult, now: datetime, feeds: FeedSettings
) -> None:
    _after_success(source, result, now, feeds)


def record_not_modified_many(
    db: Session, answers: Sequence[tuple[int, FetchResult]], now: datetime, feeds: FeedSettings
) -> list[int]:
    """Record 304 answers (``(source id, result)``, no redirect to follow) in one statement.

    The same changes as :func:`record_not_modified`, without loading the sources: one query
    for their intervals, one executemany UPDATE. Sources removed or disabled meanwhile are left
    alone. Returns the ids recorded.
    """
    if not answers:
        return []
    intervals: dict[int, int | None] = {
        row.id: row.interval_minutes
        for row in db.execute(
            select(FeedSource.id, FeedSource.interval_minutes).where(
                FeedSource.id.in_([source_id for source_id, _ in answers]),
                FeedSource.enabled.is_(True),
            )
        )
    }
    rows: list[dict[str, Any]] = [
        {
            "b_id": source_id,
            "b_etag": _clip(result.etag, 500),
            "b_last_modified": _clip(result.last_modified, 100),
            "b_now": now,
            "b_next": now + success_delay(intervals[source_id], result.max_age, feeds),
        }
        for source_id, result in answers
        if source_id in intervals
    ]
    if rows:
        db.execute(_NOT_MODIFIED, rows)
    return [row["b_id"] for row in rows]


def record_failure(
    db: Session,
    source: FeedSource,
    exc: FetchError | FeedParseError,
    now: datetime,
    feeds: FeedSettings,
    translators: Translators,
    rng: random.Random | None = None,
) -> bool:
    """Record a failure on ``source``; True when the source was disabled by it."""
    code = error_code(exc)
    source.failures += 1
    source.last_error = code[:100]
    source.last_error_at = now
    source.last_fetched_at = now
    gone = isinstance(exc, FetchError) and exc.kind == "gone"
    if gone or source.failures >= feeds.max_failures:
        source.enabled = False
        source.disabled_reason = "gone" if gone else "failures"
        source.next_fetch_at = now
        _tell_coordinators(db, source, now, translators)
        log.warning("source %s disabled (%s): %s", source.id, source.disabled_reason, exc)
        return True
    from digests.fetcher import next_retry_delay

    delay = next_retry_delay(
        source.failures,
        base=timedelta(minutes=feeds.retry_base_minutes),
        cap=MAX_RETRY_DELAY,
        jitter=rng or random.Random(),
    )
    retry_after = exc.retry_after if isinstance(exc, FetchError) else None
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_SERVER_DELAY))
    source.next_fetch_at = now + delay
    log.info("source %s failed (%s); next try in %s", source.id, code, delay)
    return False


def _tell_coordinators(
    db: Session, source: FeedSource, now: datetime, translators: Translators
) -> None:
    member = db.get(Member, source.added_by) if source.added_by is not None else None
    target: Target
    if member is not None and member.platform == source.platform:
        target = DirectTarget(platform=member.platform, user_id=member.user_id)
        t = translators.get(member.locale)
    else:
        target = PlaceTarget(platform=source.platform, channel_id=source.channel_id)
        t = translators.get()
    enqueue(
        db,
        key=f"feed-disabled:{source.id}:{now.strftime('%Y%m%dT%H%M%S')}",
        reply=Reply(text=disabled_source_text(t, source)),
        target=target,
        due_at=now,
        now=now,
    )


# --- the refresh -------------------------------------------------------------------------------


def next_refresh_due(sessions: sessionmaker[Session]) -> datetime | None:
    """When the earliest enabled source falls due (None without sources)."""
    with sessions() as db:
        return db.scalar(
            select(func.min(FeedSource.next_fetch_at)).where(FeedSource.enabled.is_(True))
        )


@dataclass(frozen=True, slots=True)
class _Snapshot:
    id: int
    url: str
    etag: str | None
    last_modified: str | None
    filter: str | None


Outcome: TypeAlias = (
    "tuple[FetchResult | None, ParsedFeed | None, FetchError | FeedParseError | None]"
)


def _due_sources(
    sessions: sessionmaker[Session],
    now: datetime,
    force: bool,
    source_ids: Sequence[int] | None,
) -> list[_Snapshot]:
    """What to fetch: the enabled sources due at ``now`` (all with ``force``, or those listed)."""
    query = select(
        FeedSource.id,
        FeedSource.url,
        FeedSource.etag,
        FeedSource.last_modified,
        FeedSource.filter,
    ).where(FeedSource.enabled.is_(True))
    if source_ids is not None:
        query = query.where(FeedSource.id.in_(list(source_ids)))
    elif not force:
        query = query.where(FeedSource.next_fetch_at <= now)
    with sessions() as db:
        rows = db.execute(query.order_by(FeedSource.next_fetch_at, FeedSource.id))
        return [_Snapshot(*row) for row in rows]


async def fetch_and_parse(
    fetcher: Fetcher,
    parser: FeedParser,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    entry_filter: str | None = None,
) -> Outcome:
    """Fetch then parse one feed; never raises for a problem of that feed."""
    try:
        result = await fetcher.fetch(url, etag=etag, last_modified=last_modified)
    except FetchError as exc:
        return None, None, exc
    if result.not_modified:
        return result, None, None
    if looks_like_html(result.content, result.content_type):
        return result, None, FeedParseError("not_a_feed", "an HTML page")
    try:
        parsed = await parser.parse(
            result.content,
            url=result.final_url,
            content_type=result.content_type,
            charset=result.charset,
            entry_filter=entry_filter,
        )
    except FeedParseError as exc:
        return result, None, exc
    return result, parsed, None


async def refresh_all(
    host: RefreshHost,
    *,
    progress: Progress | None = None,
    force: bool = False,
    source_ids: Sequence[int] | None = None,
    fetcher: Fetcher | None = None,
    parser: FeedParser | None = None,
    rng: random.Random | None = None,
) -> RefreshReport:
    """Fetch the sources due now (every enabled source with ``force``) and store what is new.

    ``progress(done, total)`` is called after each source. ``fetcher`` and ``parser`` default to
    ones built from the settings (and closed at the end). The database is read and written in
    worker threads, so a lock held elsewhere never stops the event loop.
    """
    settings = host.settings
    feeds = settings.feeds
    now = host.clock.now()
    snapshots = await asyncio.to_thread(_due_sources, host.sessions, now, force, source_ids)
    report = RefreshReport()
    total = len(snapshots)
    if progress is not None:
        progress(0, total)
    if not snapshots:
        return report
    translators = Translators(settings.network.tz, settings.network.locale)
    own_fetcher = fetcher is None
    own_parser = parser is None
    if fetcher is None:
        from digests.fetcher import Fetcher

        fetcher = Fetcher(fetch_policy(settings), clock=host.clock.now)
    parser = parser or feed_parser(settings)
    limit = asyncio.Semaphore(feeds.concurrency)

    async def one(snapshot: _Snapshot) -> tuple[_Snapshot, Outcome]:
        async with limit:
            try:
                outcome = await fetch_and_parse(
                    fetcher,
                    parser,
                    snapshot.url,
                    etag=snapshot.etag,
                    last_modified=snapshot.last_modified,
                    entry_filter=snapshot.filter,
                )
            except Exception as exc:  # a bug must not stop the other sources
                log.exception("source %s: unexpected error while fetching", snapshot.id)
                outcome = (None, None, FeedParseError("parse", repr(exc)))
            return snapshot, outcome

    results: asyncio.Queue[tuple[_Snapshot, Outcome]] = asyncio.Queue()

    async def produce(snapshot: _Snapshot) -> None:
        results.put_nowait(await one(snapshot))

    tasks = [asyncio.create_task(produce(s)) for s in snapshots]
    loop = asyncio.get_running_loop()
    try:
        done = 0
        while done < total:
            # Record every outcome ready now in one transaction (one savepoint per source).
            batch = [await results.get()]
            deadline = loop.time() + BATCH_WAIT
            while len(batch) < BATCH and done + len(batch) < total:
                if results.empty():
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    try:
                        batch.append(await asyncio.wait_for(results.get(), remaining))
                    except TimeoutError:
                        break
                else:
                    batch.append(results.get_nowait())
            # In a worker thread: fetches go on meanwhile, and a database lock held by
            # someone else never blocks the event loop (commands are answered all the same).
            await asyncio.to_thread(_apply_batch, host, batch, feeds, translators, rng, report)
            done += len(batch)
            if progress is not None:
                progress(done, total)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if own_fetcher:
            await fetcher.aclose()
        if own_parser:
            parser.close()
    return report


def _unchanged(snapshot: _Snapshot, outcome: Outcome) -> FetchResult | None:
    """The result of a plain 304 (no error, no permanent redirect to record), else None."""
    result, parsed, error = outcome
    if result is None or error is not None or parsed is not None or not result.not_modified:
        return None
    if result.permanent_url and result.permanent_url != snapshot.url:
        return None
    return result


def _apply_batch(
    host: RefreshHost,
    batch: list[tuple[_Snapshot, Outcome]],
    feeds: FeedSettings,
    translators: Translators,
    rng: random.Random | None,
    report: RefreshReport,
) -> None:
    """Record a batch of outcomes in one transaction (runs in a worker thread).

    Plain 304 answers, most of a pass, are recorded with one executemany UPDATE; every other
    outcome goes through the ORM in its own savepoint, so one source's failure to record never
    touches another's.
    """
    now = host.clock.now()
    unchanged: list[tuple[int, FetchResult]] = []
    others: list[tuple[_Snapshot, Outcome]] = []
    for snapshot, outcome in batch:
        result = _unchanged(snapshot, outcome)
        if result is not None:
            unchanged.append((snapshot.id, result))
        else:
            others.append((snapshot, outcome))
    with host.sessions.begin() as db:
        try:
            with db.begin_nested():
                recorded = len(record_not_modified_many(db, unchanged, now, feeds))
        except Exception:
            log.exception("could not record %s unchanged sources at once", len(unchanged))
            others += [(s, o) for s, o in batch if _unchanged(s, o) is not None]
        else:
            report.checked += recorded
            report.not_modified += recorded
        if not others:
            return
        ids = [snapshot.id for snapshot, _ in others]
        sources = {s.id: s for s in db.scalars(select(FeedSource).where(FeedSource.id.in_(ids)))}
        for snapshot, outcome in others:
            try:
                with db.begin_nested():
                    _apply(
                        db,
                        sources.get(snapshot.id),
                        snapshot,
                        outcome,
                        now,
                        feeds,
                        translators,
                        rng,
                        report,
                    )
            except Exception:
                log.exception("source %s: could not record the refresh", snapshot.id)
                report.failed += 1
                report.errors.append((snapshot.id, "internal"))
                # Move the source on anyway: a source that stays due would be retried at once.
                with db.begin_nested():
                    db.execute(
                        update(FeedSource)
                        .where(FeedSource.id == snapshot.id)
                        .values(
                            next_fetch_at=now + timedelta(minutes=feeds.retry_base_minutes),
                            last_error="internal",
                            last_error_at=now,
                        )
                    )


def _apply(
    db: Session,
    source: FeedSource | None,
    snapshot: _Snapshot,
    outcome: Outcome,
    now: datetime,
    feeds: FeedSettings,
    translators: Translators,
    rng: random.Random | None,
    report: RefreshReport,
) -> None:
    result, parsed, error = outcome
    if source is None or not source.enabled:
        return  # removed or disabled while it was being fetched
    report.checked += 1
    if error is not None:
        report.failed += 1
        report.errors.append((snapshot.id, error_code(error)))
        if record_failure(db, source, error, now, feeds, translators, rng):
            report.disabled += 1
    elif result is not None and parsed is None:
        record_not_modified(source, result, now, feeds)
        report.not_modified += 1
    elif result is not None and parsed is not None:
        report.new_entries += record_success(db, source, result, parsed, now, feeds)
        report.updated += 1
