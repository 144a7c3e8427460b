"""``tisserand gazette build --out FILE``: a gazette written to a file, the database unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import Translators
from bot.sources import GazetteSource
from bot.storage.highlights import Gazette, GazetteItem, GazetteStatus
from commands.gazette.content import render
from commands.gazette.draft import (
    Period,
    candidates,
    current_draft,
    default_period,
    session_facts,
    session_period,
)
from digests.gazette import make_environment


@dataclass(frozen=True, slots=True)
class BuildResult:
    path: Path
    size: int
    items: int
    from_draft: bool


def build_gazette_file(
    sessions: sessionmaker[Session],
    out: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    session_id: int | None = None,
    settings: Settings,
    clock: Clock | None = None,
    locale: str | None = None,
    env: Environment | None = None,
    sources: Mapping[str, GazetteSource],
) -> BuildResult:
    """Write a gazette to ``out`` (``tisserand gazette build --out FILE``); changes nothing.

    Without ``since`` nor ``session_id``, the current draft is written (editorial, order and
    drops included) when there is one, else the period since the last published gazette. With
    them, a fresh compilation of that period or session. Consents are applied as always.
    """
    now = (clock or SystemClock()).now()
    t = Translators(settings.network.tz, settings.network.locale).get(locale)
    with sessions() as db:
        draft = current_draft(db) if since is None and session_id is None else None
        from_draft = draft is not None
        if draft is None:
            facts = session_facts(db, session_id) if session_id is not None else None
            if facts is not None:
                period = session_period(settings, facts, now)
            elif since is not None:
                period = Period(since, until or now)
            else:
                period = default_period(db, settings, now)
            draft = Gazette(
                status=GazetteStatus.DRAFT,
                since=period.since,
                until=until or period.until,
                session_id=period.session_id,
                created_at=now,
                updated_at=now,
            )
            wanted = candidates(db, t, settings, period, sources)
            for position, (kind, ref_id) in enumerate(wanted, start=1):
                draft.items.append(
                    GazetteItem(kind=kind, ref_id=ref_id, position=position, number=position)
                )
        html, content = render(
            db, t, settings, draft, now, env or make_environment(), draft=True, sources=sources
        )
        db.rollback()  # nothing of this is kept
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(html)
    return BuildResult(path=out, size=len(html), items=content.item_count, from_draft=from_draft)
