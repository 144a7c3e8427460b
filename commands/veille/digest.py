"""A channel's weekly digest: what goes in, when it is due, how it is sent.

What goes in (:func:`collect`): the entries of the channel not yet considered by a digest
(``digest_id`` is None), stored before the digest time, not dropped by a coordinator, and not
published more than ``[feeds] max_entry_age_days`` earlier (a new feed's archive stays out).
Members' shares come first, in a section of their own; feed entries follow, grouped by theme
(themes in alphabetical order, entries without a theme last), pinned entries first, then dated
entries newest first, then undated ones (an undated entry never outranks a dated one by the time
it was stored). Each theme keeps ``top_per_theme`` entries chosen fairly across its sources
(:func:`fair_pick`: round-robin, the best entry of each source per round); pinned entries and
shares are always kept. Duplicates across feeds are removed by canonical URL (a share wins over a feed entry,
then a pinned entry, then the entry stored first).

When (:func:`next_digest_due`): each channel with a schedule (``/digest programmer``), an enabled
source or a pending share gets a digest at its weekly time (default: ``[feeds] digest_weekday``,
``digest_hour``, ``digest_minute`` — Monday 9:00 — in the network's time zone). The next time is
the first weekly slot after the channel's *anchor*: the slot of its latest digest, the time its
schedule was last changed, or (for a new channel) when its first source or share arrived. After
a long stop, only the latest missed slot is built.

Sending (:func:`send_due_digests`): one outbox row per channel and period, key
``digest:<platform>:<channel_id>:<ISO year>-W<ISO week>``, with the HTML version attached
(``digest-2026-W48.html``), and one archive row (table ``digests``) holding both renderings. A
week with nothing new posts nothing (``empty_digest = "skip"``) or a short line (``"line"``); its
archive row is written either way, so the anchor moves on.

Rendering is :mod:`digests.digest`'s, from the :class:`~digests.digest.DigestData` that
:func:`collect` builds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from jinja2 import Environment
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import FeedSettings, Settings
from bot.core import Attachment, NotFound, PlaceTarget, Reply
from bot.i18n import Translator, Translators, fold
from bot.outbox import enqueue
from bot.storage.members import Member
from bot.storage.veille import (
    ENTRY_SHARE,
    DigestArchive,
    DigestSchedule,
    FeedEntry,
    FeedSource,
)
from commands.veille.schedule import Schedule, latest_slot, next_slot, period_of
from commands.veille.store import Channel, channel_name, channel_schedule, find_channel
from digests.digest import DigestData, DigestItem, DigestSection, render
from digests.feeds import dedupe_across

log = logging.getLogger(__name__)

__all__ = [
    "DigestHost",
    "build_preview",
    "collect",
    "next_digest_due",
    "preview_digest",
    "render_digest",
    "send_due_digests",
]


class DigestHost(Protocol):
    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def templates(self) -> Environment: ...


def _sort_key(item: DigestItem, created: dict[int, datetime]) -> tuple[int, int, float, int]:
    """Pinned first; then dated entries, newest first; undated entries last, newest stored
    first: the time an entry was stored says nothing of its age, so an undated entry never
    outranks a dated one."""
    if item.published_at is not None:
        return (0 if item.pinned else 1, 0, -item.published_at.timestamp(), -item.id)
    return (0 if item.pinned else 1, 1, -created[item.id].timestamp(), -item.id)


def fair_pick(
    items: list[DigestItem],
    room: int,
    source_of: dict[int, int | None],
    order: Callable[[DigestItem], tuple[int, int, float, int]],
) -> list[DigestItem]:
    """At most ``room`` of ``items`` (already sorted best first), chosen across sources in
    rounds: each round takes the best entry left of every source, best sources first, so a
    feed that posts 50 items a week takes one place per round like a feed that posts one.
    Entries without a source (none today besides shares) count as one source each."""
    queues: dict[object, list[DigestItem]] = {}
    for item in items:
        source = source_of.get(item.id)
        queues.setdefault(source if source is not None else ("entry", item.id), []).append(item)
    chosen: list[DigestItem] = []
    depth = 0
    while len(chosen) < room:
        layer = [queue[depth] for queue in queues.values() if len(queue) > depth]
        if not layer:
            break
        layer.sort(key=order)
        chosen.extend(layer[: room - len(chosen)])
        depth += 1
    chosen.sort(key=order)
    return chosen


def collect(
    db: Session,
    *,
    platform: str,
    channel_id: str,
    at: datetime,
    feeds: FeedSettings,
    t: Translator,
    slot: datetime | None = None,
) -> DigestData:
    """What the channel's digest at ``at`` holds (nothing is changed in the database)."""
    oldest = at - timedelta(days=feeds.max_entry_age_days)
    rows = db.execute(
        select(FeedEntry, FeedSource.title, FeedSource.url, Member.display_name)
        .outerjoin(FeedSource, FeedSource.id == FeedEntry.source_id)
        .outerjoin(Member, Member.id == FeedEntry.shared_by)
        .where(
            FeedEntry.platform == platform,
            FeedEntry.channel_id == channel_id,
            FeedEntry.digest_id.is_(None),
            FeedEntry.created_at <= at,
            (FeedEntry.published_at.is_(None)) | (FeedEntry.published_at >= oldest),
        )
        .order_by(FeedEntry.id)
    ).all()
    considered: list[int] = []
    created: dict[int, datetime] = {}
    source_of: dict[int, int | None] = {}
    hashes: dict[int, str | None] = {}
    candidates: list[DigestItem] = []
    for entry, source_title, source_url, sharer in rows:
        considered.append(entry.id)
        if entry.dropped:
            continue
        created[entry.id] = entry.created_at
        source_of[entry.id] = entry.source_id
        hashes[entry.id] = entry.link_hash
        is_share = entry.kind == ENTRY_SHARE
        candidates.append(
            DigestItem(
                id=entry.id,
                kind=entry.kind,
                title=entry.title,
                link=entry.link,
                summary=entry.summary,
                summary_html=entry.summary_html,
                source=entry.author if is_share else (source_title or _host(source_url)),
                theme=entry.theme,
                shared_by=sharer if is_share else None,
                comment=entry.comment,
                published_at=entry.published_at,
                pinned=entry.pinned,
            )
        )
    # A share wins over a feed entry with the same link, then a pinned entry, then the entry
    # stored first (the feed that had it first).
    candidates.sort(key=lambda i: (0 if i.kind == ENTRY_SHARE else 1, 0 if i.pinned else 1, i.id))
    unique = dedupe_across(candidates, lambda item: hashes[item.id])
    sections: list[DigestSection] = []
    shares = [i for i in unique if i.kind == ENTRY_SHARE]
    if shares:
        shares.sort(key=lambda i: _sort_key(i, created))
        sections.append(DigestSection("shares", t.gettext("Shared by members"), tuple(shares)))

    def order(item: DigestItem) -> tuple[int, int, float, int]:
        return _sort_key(item, created)

    by_theme: dict[str, list[DigestItem]] = {}
    labels: dict[str, str] = {}
    for item in unique:
        if item.kind == ENTRY_SHARE:
            continue
        key = fold(item.theme) if item.theme else ""
        by_theme.setdefault(key, []).append(item)
        labels.setdefault(key, item.theme or "")
    for key in sorted(by_theme, key=lambda k: (k == "", k)):
        items = sorted(by_theme[key], key=order)
        pinned = [i for i in items if i.pinned]
        others = [i for i in items if not i.pinned]
        room = max(0, feeds.top_per_theme - len(pinned))
        kept = pinned + fair_pick(others, room, source_of, order)
        label = labels[key][:1].upper() + labels[key][1:] or t.gettext("Other news")
        sections.append(
            DigestSection(
                f"theme:{key}" if key else "other",
                label,
                tuple(kept),
                left_out=len(items) - len(kept),
            )
        )
    if len(sections) == 1 and sections[0].key == "other":
        sections[0] = DigestSection("other", "", sections[0].items, sections[0].left_out)
    if slot is None:
        schedule = channel_schedule(db, platform, channel_id, feeds)
        slot = next_slot(at - timedelta(seconds=1), schedule, t.tz)
    return DigestData(
        platform=platform,
        channel_id=channel_id,
        channel_name=channel_name(db, platform, channel_id),
        period=period_of(slot, t.tz),
        slot=slot,
        at=at,
        sections=tuple(sections),
        considered=tuple(considered),
    )


def _host(url: str | None) -> str | None:
    if not url:
        return None
    match = re.match(r"^https?://([^/:?#]+)", url)
    return match.group(1) if match else None


def render_digest(
    env: Environment, data: DigestData, t: Translator, settings: Settings, *, numbered: bool = False
) -> tuple[str, str]:
    """The chat text and the HTML document of a digest, with the network's settings."""
    return render(
        env,
        data,
        t,
        network=settings.network.name,
        templates_dir=settings.feeds.templates_dir,
        numbered=numbered,
    )


# --- due work ------------------------------------------------------------------------------------


def _anchors(db: Session, feeds: FeedSettings) -> dict[Channel, tuple[datetime, Schedule]]:
    """For each channel that gets digests: its anchor and its schedule."""
    anchors: dict[Channel, datetime] = {}

    def later(channel: Channel, moment: datetime | None) -> None:
        if moment is not None and (channel not in anchors or moment > anchors[channel]):
            anchors[channel] = moment

    def earliest(rows: Iterable[Any]) -> None:
        for platform, channel_id, moment in rows:
            channel = (platform, channel_id)
            if moment is not None and (channel not in firsts or moment < firsts[channel]):
                firsts[channel] = moment

    firsts: dict[Channel, datetime] = {}
    earliest(
        db.execute(
            select(FeedSource.platform, FeedSource.channel_id, func.min(FeedSource.created_at))
            .where(FeedSource.enabled.is_(True))
            .group_by(FeedSource.platform, FeedSource.channel_id)
        )
    )
    earliest(
        db.execute(
            select(FeedEntry.platform, FeedEntry.channel_id, func.min(FeedEntry.created_at))
            .where(FeedEntry.kind == ENTRY_SHARE, FeedEntry.digest_id.is_(None))
            .group_by(FeedEntry.platform, FeedEntry.channel_id)
        )
    )
    schedules: dict[Channel, Schedule] = {}
    for row in db.scalars(select(DigestSchedule)):
        channel = (row.platform, row.channel_id)
        schedules[channel] = Schedule(row.weekday, row.hour, row.minute)
        later(channel, row.updated_at)
    for channel, moment in firsts.items():
        if channel not in schedules:
            later(channel, moment)
    for platform, channel_id, moment in db.execute(
        select(
            DigestArchive.platform, DigestArchive.channel_id, func.max(DigestArchive.slot_at)
        ).group_by(DigestArchive.platform, DigestArchive.channel_id)
    ):
        channel = (platform, channel_id)
        if channel in anchors:
            later(channel, moment)
    default = Schedule.default(feeds)
    return {
        channel: (moment, schedules.get(channel, default)) for channel, moment in anchors.items()
    }


def next_digest_due(sessions: sessionmaker[Session], settings: Settings) -> datetime | None:
    """When the next digest of any channel falls due."""
    tz = settings.network.tz
    with sessions() as db:
        anchors = _anchors(db, settings.feeds)
    slots = [next_slot(anchor, schedule, tz) for anchor, schedule in anchors.values()]
    return min(slots) if slots else None


async def send_due_digests(host: DigestHost) -> int:
    """Build and enqueue every digest due now; returns how many were posted."""
    settings = host.settings
    tz = settings.network.tz
    now = host.clock.now()
    translators = Translators(tz, settings.network.locale)
    t = translators.get()
    posted = 0
    with host.sessions() as db:
        anchors = _anchors(db, settings.feeds)
    for (platform, channel_id), (anchor, schedule) in sorted(anchors.items()):
        if next_slot(anchor, schedule, tz) > now:
            continue
        slot = latest_slot(now, schedule, tz)
        try:
            with host.sessions.begin() as db:
                if _send_one(db, host, platform, channel_id, slot, now, t):
                    posted += 1
        except Exception:
            log.exception("digest of %s:%s for %s failed", platform, channel_id, slot)
            _skip_period(host, platform, channel_id, slot, now, t)
    return posted


def _skip_period(
    host: DigestHost, platform: str, channel_id: str, slot: datetime, now: datetime, t: Translator
) -> None:
    """Settle a period whose digest could not be built (a broken custom template...): nothing
    is posted, its entries wait for the next digest, and the slot is not retried in a loop."""
    with host.sessions.begin() as db:
        period = period_of(slot, t.tz)
        exists = db.scalar(
            select(DigestArchive.id).where(
                DigestArchive.platform == platform,
                DigestArchive.channel_id == channel_id,
                DigestArchive.period == period,
            )
        )
        if exists is None:
            db.add(
                DigestArchive(
                    platform=platform,
                    channel_id=channel_id,
                    period=period,
                    slot_at=slot,
                    item_count=0,
                    created_at=now,
                )
            )


def _send_one(
    db: Session,
    host: DigestHost,
    platform: str,
    channel_id: str,
    slot: datetime,
    now: datetime,
    t: Translator,
) -> bool:
    settings = host.settings
    period = period_of(slot, t.tz)
    existing = db.scalars(
        select(DigestArchive).where(
            DigestArchive.platform == platform,
            DigestArchive.channel_id == channel_id,
            DigestArchive.period == period,
        )
    ).one_or_none()
    if existing is not None:
        # The schedule moved within a week that already had its digest: one per period.
        existing.slot_at = max(existing.slot_at, slot)
        return False
    data = collect(
        db,
        platform=platform,
        channel_id=channel_id,
        at=now,
        feeds=settings.feeds,
        t=t,
        slot=slot,
    )
    text, html = render_digest(host.templates, data, t, settings)
    archive = DigestArchive(
        platform=platform,
        channel_id=channel_id,
        period=period,
        slot_at=slot,
        item_count=data.item_count,
        text=text if data.item_count else "",
        html=html if data.item_count else "",
        created_at=now,
    )
    db.add(archive)
    db.flush()
    if data.considered:
        db.execute(
            update(FeedEntry)
            .where(FeedEntry.id.in_(list(data.considered)))
            .values(digest_id=archive.id)
        )
    key = f"digest:{platform}:{channel_id}:{period}"
    reply: Reply | None = None
    if data.item_count:
        reply = Reply(
            text=text,
            attachments=(Attachment(f"digest-{period}.html", "text/html", html.encode("utf-8")),),
        )
    elif settings.feeds.empty_digest == "line":
        reply = Reply(text=t.gettext("Nothing new in the watch this week."))
    if reply is None:
        log.info("digest %s: nothing new, nothing posted", key)
        return False
    archive.outbox_key = key
    return (
        enqueue(
            db,
            key=key,
            reply=reply,
            target=PlaceTarget(platform=platform, channel_id=channel_id),
            due_at=slot,
            now=now,
        )
        is not None
    )


# --- preview -------------------------------------------------------------------------------------


def build_preview(
    db: Session,
    *,
    platform: str,
    channel_id: str,
    env: Environment,
    settings: Settings,
    t: Translator,
    at: datetime,
) -> tuple[DigestData, str]:
    """The digest the channel would get now, rendered with item numbers (nothing changes)."""
    data = collect(db, platform=platform, channel_id=channel_id, at=at, feeds=settings.feeds, t=t)
    text, _ = render_digest(env, data, t, settings, numbered=True)
    return data, text


def preview_digest(
    host: DigestHost,
    *,
    channel: str,
    platform: str | None = None,
    locale: str | None = None,
) -> str:
    """The next digest of ``channel`` as chat text with item numbers (the CLI's
    ``digest preview --channel X``). Raises LookupError for an unknown channel."""
    settings = host.settings
    t = Translators(settings.network.tz, settings.network.locale).get(locale)
    with host.sessions() as db:
        found = find_channel(db, channel, platform)
        if found is None:
            raise NotFound(channel)
        _, text = build_preview(
            db,
            platform=found[0],
            channel_id=found[1],
            env=host.templates,
            settings=settings,
            t=t,
            at=host.clock.now(),
        )
    return text
