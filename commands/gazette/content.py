"""What a gazette shows, read from the database, and its HTML (:mod:`digests.gazette`).

Consent is checked again at every rendering: a withdrawn quote vanishes from drafts,
publications and rebuilt archives without anyone touching the items.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.context import Context
from bot.core import ExtraEntry
from bot.i18n import Translator
from bot.sources import GazetteSource
from bot.storage.highlights import PUBLISHABLE, Consent, Gazette, Highlight, ItemKind
from bot.storage.members import Member
from commands.gazette.draft import (
    EXTRA_KINDS,
    SECTIONS,
    Period,
    extra_entries,
    opted_out,
    ordered_items,
)
from digests.gazette import (
    GazetteContent,
    GazetteImage,
    HighlightEntry,
    Newcomer,
    render_gazette,
    weekly_points,
)


def _highlight_entry(row: Highlight) -> HighlightEntry:
    return HighlightEntry(
        number=row.id,
        quote=row.quote,
        author=row.author_name if row.consent == Consent.YES else None,
        said_at=row.said_at,
        channel=row.channel_name,
        link=row.link,
        themes=tuple(row.themes or ()),
        images=tuple(
            GazetteImage(image.media_type, image.data, image.filename or "") for image in row.images
        ),
    )


def build_content(
    db: Session,
    t: Translator,
    settings: Settings,
    gazette: Gazette,
    generated_at: datetime,
    *,
    draft: bool,
    sources: Mapping[str, GazetteSource],
) -> GazetteContent:
    """What the gazette shows now: its items that are not dropped and still consented to."""
    period = Period(gazette.since, gazette.until, gazette.session_id)
    items = [item for item in ordered_items(gazette) if not item.dropped]
    by_kind: dict[ItemKind, list[int]] = {kind: [] for kind in SECTIONS}
    for item in items:
        by_kind[ItemKind(item.kind)].append(item.ref_id)
    highlights: list[HighlightEntry] = []
    if by_kind[ItemKind.HIGHLIGHT]:
        rows = {
            row.id: row
            for row in db.scalars(
                select(Highlight).where(Highlight.id.in_(by_kind[ItemKind.HIGHLIGHT]))
            ).all()
        }
        for ref_id in by_kind[ItemKind.HIGHLIGHT]:
            row = rows.get(ref_id)
            if row is not None and row.consent in PUBLISHABLE:
                highlights.append(_highlight_entry(row))
    extras: dict[ItemKind, list[ExtraEntry]] = {}
    if any(by_kind[kind] for kind in EXTRA_KINDS):
        available = extra_entries(db, t, period, sources)
        for kind in EXTRA_KINDS:
            known = {entry.ref_id: entry for entry in available.get(kind, [])}
            extras[kind] = [known[r] for r in by_kind[kind] if r in known]
    hidden = opted_out(db)
    newcomers: list[Newcomer] = []
    if by_kind[ItemKind.NEWCOMER] and settings.highlights.name_newcomers:
        members = {
            m.id: m
            for m in db.scalars(
                select(Member).where(Member.id.in_(by_kind[ItemKind.NEWCOMER]))
            ).all()
        }
        for ref_id in by_kind[ItemKind.NEWCOMER]:
            member = members.get(ref_id)
            if member is not None and member.id not in hidden:
                newcomers.append(Newcomer(member.display_name, member.created_at))
    joined = db.scalars(select(Member.created_at).where(Member.created_at <= period.until)).all()
    newcomer_count = sum(1 for when in joined if when >= period.since)
    return GazetteContent(
        network=settings.network.name,
        since=period.since,
        until=period.until,
        generated_at=generated_at,
        number=None if draft else gazette.id,
        editorial=gazette.editorial,
        highlights=tuple(highlights),
        sessions=tuple(extras.get(ItemKind.SESSION, [])),
        polls=tuple(extras.get(ItemKind.POLL, [])),
        veille=tuple(extras.get(ItemKind.VEILLE, [])),
        newcomers=tuple(newcomers),
        newcomer_count=newcomer_count,
        members_over_time=weekly_points(list(joined), period.until, tz=t.tz),
        draft=draft,
    )


def render(
    db: Session,
    t: Translator,
    settings: Settings,
    gazette: Gazette,
    generated_at: datetime,
    env: Environment | None,
    *,
    draft: bool,
    sources: Mapping[str, GazetteSource],
) -> tuple[bytes, GazetteContent]:
    content = build_content(db, t, settings, gazette, generated_at, draft=draft, sources=sources)
    html = render_gazette(content, t, env)
    return html.encode("utf-8"), content


def network_translator(ctx: Context) -> Translator:
    """The network's language: the gazette is one document for everyone."""
    return ctx.translators.get(ctx.settings.network.locale)
