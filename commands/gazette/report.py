"""What the gazette family gives the annual report: the gazettes published and the highlights
by theme (only those whose authors consented)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import Translator
from bot.storage.highlights import PUBLISHABLE, Gazette, GazetteStatus, Highlight
from digests.report import Bars, Figure, ReportPart, Table


def report_gazette(
    db: Session, t: Translator, since: datetime, until: datetime
) -> ReportPart | None:
    gazettes = list(
        db.scalars(
            select(Gazette)
            .where(
                Gazette.status == GazetteStatus.PUBLISHED,
                Gazette.published_at >= since,
                Gazette.published_at < until,
            )
            .order_by(Gazette.published_at, Gazette.id)
        )
    )
    themes_of = list(
        db.scalars(
            select(Highlight.themes).where(
                Highlight.said_at >= since,
                Highlight.said_at < until,
                Highlight.consent.in_(list(PUBLISHABLE)),
            )
        )
    )
    if not gazettes and not themes_of:
        return None
    themes: Counter[str] = Counter()
    for found in themes_of:
        themes.update(found or [t.gettext("without theme")])
    ordered = sorted(themes.items(), key=lambda kv: (-kv[1], kv[0]))
    rows = tuple(
        (g.id, t.date(g.published_at), g.published_items)
        for g in gazettes
        if g.published_at is not None
    )
    return ReportPart(
        key="gazette",
        title=t.gettext("Memory"),
        order=40,
        figures=(
            Figure(t.gettext("Gazettes published"), len(gazettes)),
            Figure(t.gettext("Highlights kept (with consent)"), len(themes_of)),
        ),
        tables=tuple(
            table
            for table in (
                Table(
                    t.gettext("Gazettes published"),
                    (t.gettext("No."), t.gettext("Published on"), t.gettext("Items")),
                    rows,
                )
                if rows
                else None,
                Table(
                    t.gettext("Highlights by theme"),
                    (t.gettext("Theme"), t.gettext("Highlights")),
                    tuple(ordered),
                )
                if ordered
                else None,
            )
            if table is not None
        ),
        charts=(
            Bars(
                "highlight-themes",
                t.gettext("Highlights by theme"),
                tuple(name for name, _ in ordered[:12]),
                tuple(float(n) for _, n in ordered[:12]),
            ),
        ),
    )
