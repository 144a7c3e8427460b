"""The annual activity report: the year's parts asked of every family (``Family.report``), the
network's own figures (members, newcomers, categories), rendered by :mod:`digests.report`."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import TisserandError
from bot.dates import year_span
from bot.family import FamilyError, ReportSource
from bot.i18n import N_, Translator
from bot.storage.members import Member
from digests.report import (
    Bars,
    Figure,
    ReportData,
    ReportPart,
    Table,
    month_labels,
    render_report,
    report_workbook,
)

log = logging.getLogger(__name__)

_CATEGORY_LABELS = {
    "elu": N_("elected official"),
    "agent": N_("public agent"),
    "association": N_("association"),
    "partenaire": N_("partner"),
}


class NoActivity(TisserandError):
    """Nothing happened in the year asked for: no report is written."""

    def __init__(self, year: int) -> None:
        super().__init__(f"no activity in {year}")
        self.year = year


@dataclass(frozen=True, slots=True)
class ReportFiles:
    year: int
    html: bytes
    xlsx: bytes
    parts: tuple[ReportPart, ...]


def network_part(db: Session, t: Translator, since: datetime, until: datetime) -> ReportPart | None:
    """The members: how many at the end of the year, newcomers (by month), categories."""
    total = int(db.scalar(select(func.count(Member.id)).where(Member.created_at < until)) or 0)
    newcomers = list(
        db.scalars(
            select(Member.created_at).where(Member.created_at >= since, Member.created_at < until)
        )
    )
    if not total:
        return None
    months = Counter(moment.astimezone(t.tz).month for moment in newcomers)
    labels = month_labels(t, since.astimezone(t.tz).year)
    categories = Counter(
        category
        for category in db.scalars(select(Member.category).where(Member.created_at < until))
    )
    named = sorted(
        (
            (
                t.gettext(_CATEGORY_LABELS[c])
                if c in _CATEGORY_LABELS
                else (c or t.gettext("no category")),
                n,
            )
            for c, n in categories.items()
        ),
        key=lambda kv: (-kv[1], kv[0]),
    )
    return ReportPart(
        key="network",
        title=t.gettext("The network"),
        order=0,
        figures=(
            Figure(t.gettext("Members at the end of the year"), total),
            Figure(t.gettext("Newcomers in the year"), len(newcomers)),
        ),
        tables=(
            Table(
                t.gettext("Members by category"),
                (t.gettext("Category"), t.gettext("Members")),
                tuple(named),
            ),
            Table(
                t.gettext("Newcomers, month by month"),
                (t.gettext("Month"), t.gettext("Newcomers")),
                tuple((labels[m - 1], months.get(m, 0)) for m in range(1, 13)),
            ),
        ),
        charts=(
            Bars(
                "newcomers",
                t.gettext("Newcomers, month by month"),
                labels,
                tuple(float(months.get(m, 0)) for m in range(1, 13)),
            ),
        ),
    )


def collect(
    db: Session,
    t: Translator,
    year: int,
    sources: Mapping[str, ReportSource],
    now: datetime,
) -> list[ReportPart]:
    """Every part of the year, in order; a source that fails is logged and left out."""
    since, until = year_span(year, t.tz)
    until = min(until, now)
    parts: list[ReportPart] = []
    own = network_part(db, t, since, until)
    if own is not None:
        parts.append(own)
    for key, source in sources.items():
        try:
            with db.begin_nested():
                part = source(db, t, since, until)
        except Exception:  # one family's failure never costs the whole report
            log.exception("the report section %r failed", key)
            continue
        if part is None:
            continue
        if not isinstance(part, ReportPart):
            raise FamilyError(f"the report section {key!r} returned {type(part).__name__}")
        parts.append(part)
    return sorted(parts, key=lambda p: (p.order, p.key))


def labels(t: Translator, network: str, year: int, generated: str) -> dict[str, str]:
    return {
        "title": t.gettext("Annual activity report {year}", year=year),
        "period": t.gettext(
            "{network} — from 1 January to 31 December {year}; report made on {date}.",
            network=network,
            year=year,
            date=generated,
        ),
        "contents": t.gettext("Contents"),
        "nothing": t.gettext("Nothing to report this year."),
        "figures_as_text": t.gettext("The figures as text"),
        "consent": t.gettext(
            "Members' words appear without their names; highlights only with their authors' "
            "consent; anonymous answers stay anonymous."
        ),
        "made": t.gettext("Made by Tisserand from what the network recorded during the year."),
    }


def build_report(
    db: Session,
    t: Translator,
    year: int,
    *,
    network: str,
    sources: Mapping[str, ReportSource],
    now: datetime,
    env: Environment | None = None,
) -> ReportFiles:
    """The HTML report and its spreadsheet (raises :class:`NoActivity` for an empty year)."""
    parts = collect(db, t, year, sources, now)
    if not any(part.key != "network" and not part.empty for part in parts):
        raise NoActivity(year)
    generated = now.astimezone(t.tz).date()
    data = ReportData(network, year, generated, tuple(parts))
    from babel.dates import format_date

    words = labels(t, network, year, format_date(generated, "long", locale=t.locale))
    html = render_report(data, t, env, labels=words)
    xlsx = report_workbook(data, figures_title=t.gettext("Figures"))
    return ReportFiles(year, html.encode("utf-8"), xlsx, tuple(parts))
