"""What a gazette shows, read from the database, and its HTML (:mod:`digests.gazette`).

Consent is checked again at every rendering: a withdrawn quote vanishes from drafts,
publications and rebuilt archives without anyone touching the items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.context import Context
from bot.core import ExtraEntry
from bot.i18n import Translator
from bot.sources import GazetteSource
from bot.storage.highlights import (
    PUBLISHABLE,
    Consent,
    Gazette,
    Highlight,
    HighlightVote,
    ItemKind,
)
from bot.storage.members import Member
from bot.storage.polls import PollBallot
from bot.storage.profiles import organisation_of
from bot.storage.sessions import Registration
from commands.gazette.draft import (
    EXTRA_KINDS,
    SECTIONS,
    Period,
    extra_entries,
    opted_out,
    ordered_items,
)
from digests.gazette import (
    EventHeader,
    GazetteContent,
    GazetteImage,
    HighlightEntry,
    Newcomer,
    monthly_participation,
    render_gazette,
)


def proper_name(name: str) -> str:
    """A chat handle as a name: ``nadia`` -> ``Nadia``, ``jean-pierre_durand`` -> ``Jean-Pierre
    Durand``; a name that already has capitals is the member's own spelling and is kept."""
    text = " ".join(name.replace("_", " ").split())
    if any(c.isupper() for c in text):
        return text
    return " ".join(
        "-".join(part[:1].upper() + part[1:] for part in word.split("-"))
        for word in text.split(" ")
    )


def byline_of(row: Highlight, author: Member | None, organisation: str | None = None) -> str | None:
    """How the gazette signs a quote: None without the author's name (consent "anon").

    The member's current display name (they may have corrected it since), properly capitalised,
    and the organisation of their profile when they gave one (``Alice (Mairie de Lons)``).
    """
    if row.consent != Consent.YES:
        return None
    name = proper_name(author.display_name if author is not None else row.author_name)
    return f"{name} ({organisation})" if organisation else name


def _authors(db: Session, rows: Iterable[Highlight]) -> dict[int, Member]:
    ids = {row.author_id for row in rows if row.author_id is not None}
    if not ids:
        return {}
    return {m.id: m for m in db.scalars(select(Member).where(Member.id.in_(ids))).all()}


def _highlight_entry(
    row: Highlight, author: Member | None, organisation: str | None = None
) -> HighlightEntry:
    return HighlightEntry(
        number=row.id,
        quote=row.quote,
        author=byline_of(row, author, organisation),
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
    period = Period.of(gazette)
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
        authors = _authors(db, rows.values())
        for ref_id in by_kind[ItemKind.HIGHLIGHT]:
            row = rows.get(ref_id)
            if row is not None and row.consent in PUBLISHABLE:
                author = authors.get(row.author_id) if row.author_id is not None else None
                organisation = organisation_of(db, author.id) if author is not None else None
                highlights.append(_highlight_entry(row, author, organisation))
    extras: dict[ItemKind, list[ExtraEntry]] = {}
    event: EventHeader | None = None
    if any(by_kind[kind] for kind in EXTRA_KINDS) or period.session_id is not None:
        available = extra_entries(db, t, period, sources)
        event = _event_header(available, period)
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
                newcomers.append(Newcomer(proper_name(member.display_name), member.created_at))
    joined = db.scalars(
        select(Member.created_at).where(
            Member.created_at >= period.since, Member.created_at <= period.until
        )
    ).all()
    newcomer_count = len(joined)
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
        participation=monthly_participation(
            participation(db, period.until, months=12, tz=t.tz), period.until, months=12, tz=t.tz
        ),
        draft=draft,
        event=event,
    )


def participation(
    db: Session, until: datetime, *, months: int, tz: Any
) -> list[tuple[int, datetime]]:
    """(member, moment) each time a member took part in the network's life during the last
    ``months`` months: wrote a kept highlight, proposed one, attended a session, voted."""
    start = until - timedelta(days=31 * months)
    queries = (
        select(Highlight.author_id, Highlight.said_at).where(
            Highlight.author_id.is_not(None), Highlight.said_at >= start
        ),
        select(HighlightVote.member_id, HighlightVote.created_at).where(
            HighlightVote.created_at >= start
        ),
        select(Registration.member_id, Registration.attended_at).where(
            Registration.attended_at.is_not(None), Registration.attended_at >= start
        ),
        select(PollBallot.member_id, PollBallot.created_at).where(PollBallot.created_at >= start),
    )
    found: list[tuple[int, datetime]] = []
    for query in queries:
        found.extend((int(member), moment) for member, moment in db.execute(query) if member)
    return found


def _event_header(
    available: Mapping[ItemKind, list[ExtraEntry]], period: Period
) -> EventHeader | None:
    """A session's gazette names the session (what the sessions family says of it)."""
    if period.session_id is None:
        return None
    for entry in available.get(ItemKind.SESSION, []):
        if entry.ref_id == period.session_id:
            return EventHeader(entry.title, entry.details[0] if entry.details else "")
    return None


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
