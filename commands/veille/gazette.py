"""What the veille gives the gazette: the period's best items of the watch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from bot.core import ExtraEntry
from bot.i18n import Translator
from bot.storage.veille import ENTRY_SHARE, FeedEntry

__all__ = ["GAZETTE_VEILLE_ITEMS", "gazette_best_veille"]

GAZETTE_VEILLE_ITEMS = 6


def gazette_best_veille(
    db: Session, t: Translator, since: datetime, until: datetime, session_id: int | None
) -> list[ExtraEntry]:
    """Pinned items first, then links shared by members, then the newest feed items.

    Who shared a link is not printed (a name needs consent), nor their comment (their words).
    """
    rows = db.scalars(
        select(FeedEntry)
        .where(
            FeedEntry.dropped.is_(False),
            FeedEntry.created_at >= since,
            FeedEntry.created_at <= until,
        )
        .order_by(
            case((FeedEntry.pinned.is_(True), 0), else_=1),
            case((FeedEntry.kind == ENTRY_SHARE, 0), else_=1),
            FeedEntry.created_at.desc(),
            FeedEntry.id,
        )
        .limit(GAZETTE_VEILLE_ITEMS)
    ).all()
    return [
        ExtraEntry(
            kind="veille",
            ref_id=row.id,
            title=row.title,
            at=row.published_at or row.created_at,
            details=(_gazette_excerpt(row.summary, 220),) if row.summary.strip() else (),
            link=row.link,
        )
        for row in rows
    ]


def _gazette_excerpt(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
