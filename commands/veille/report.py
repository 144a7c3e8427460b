"""What the veille family gives the annual report: the sources followed, the digests sent, the
links members shared and the themes (counts only: sharers are not named)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.i18n import Translator
from bot.storage.veille import ENTRY_FEED, ENTRY_SHARE, DigestArchive, FeedEntry, FeedSource
from digests.report import Bars, Figure, ReportPart, Table


def report_veille(
    db: Session, t: Translator, since: datetime, until: datetime
) -> ReportPart | None:
    sources = int(
        db.scalar(select(func.count(FeedSource.id)).where(FeedSource.created_at < until)) or 0
    )
    added = int(
        db.scalar(
            select(func.count(FeedSource.id)).where(
                FeedSource.created_at >= since, FeedSource.created_at < until
            )
        )
        or 0
    )
    digests = int(
        db.scalar(
            select(func.count(DigestArchive.id)).where(
                DigestArchive.slot_at >= since, DigestArchive.slot_at < until
            )
        )
        or 0
    )
    counts = dict(
        db.execute(
            select(FeedEntry.kind, func.count(FeedEntry.id))
            .where(FeedEntry.created_at >= since, FeedEntry.created_at < until)
            .group_by(FeedEntry.kind)
        ).all()
    )
    entries, shares = int(counts.get(ENTRY_FEED, 0)), int(counts.get(ENTRY_SHARE, 0))
    if not (sources or digests or entries or shares):
        return None
    sharers = int(
        db.scalar(
            select(func.count(func.distinct(FeedEntry.shared_by))).where(
                FeedEntry.kind == ENTRY_SHARE,
                FeedEntry.created_at >= since,
                FeedEntry.created_at < until,
            )
        )
        or 0
    )
    no_theme = t.gettext("without theme")
    themes = [
        (theme or no_theme, int(n))
        for theme, n in db.execute(
            select(FeedEntry.theme, func.count(FeedEntry.id))
            .where(FeedEntry.created_at >= since, FeedEntry.created_at < until)
            .group_by(FeedEntry.theme)
        ).all()
    ]
    themes.sort(key=lambda kv: (-kv[1], kv[0]))
    return ReportPart(
        key="veille",
        title=t.gettext("Veille"),
        order=30,
        figures=(
            Figure(t.gettext("Sources followed"), sources),
            Figure(t.gettext("Sources added this year"), added),
            Figure(t.gettext("Digests sent"), digests),
            Figure(t.gettext("Entries read"), entries),
            Figure(t.gettext("Links shared by members"), shares),
            Figure(t.gettext("Members who shared"), sharers),
        ),
        tables=(
            Table(
                t.gettext("Entries by theme"),
                (t.gettext("Theme"), t.gettext("Entries")),
                tuple(themes),
            ),
        )
        if themes
        else (),
        charts=(
            Bars(
                "veille-themes",
                t.gettext("Entries by theme"),
                tuple(name for name, _ in themes[:12]),
                tuple(float(n) for _, n in themes[:12]),
            ),
        ),
    )
