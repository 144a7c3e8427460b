"""What the ideas box gives the annual report: the proposals of the year ("propositions
d'évolution"), their support and status (authors are not named)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import Translator
from bot.storage.ideas import Idea, IdeaStatus
from commands.ideas.messages import status_label
from digests.report import Bars, Figure, ReportPart, Table


def report_ideas(db: Session, t: Translator, since: datetime, until: datetime) -> ReportPart | None:
    ideas = list(
        db.scalars(
            select(Idea)
            .where(Idea.created_at >= since, Idea.created_at < until)
            .order_by(Idea.supports.desc(), Idea.id)
        )
    )
    if not ideas:
        return None
    statuses = Counter(idea.status for idea in ideas)
    order = list(IdeaStatus)
    return ReportPart(
        key="ideas",
        title=t.gettext("Ideas and proposals"),
        order=60,
        figures=(
            Figure(t.gettext("Ideas proposed"), len(ideas)),
            Figure(t.gettext("Supports"), sum(idea.supports for idea in ideas)),
            *(
                Figure(status_label(t, status), statuses.get(status, 0))
                for status in order
                if statuses.get(status)
            ),
        ),
        tables=(
            Table(
                t.gettext("The ideas, the most supported first"),
                (
                    t.gettext("No."),
                    t.gettext("Idea"),
                    t.gettext("Supports"),
                    t.gettext("Status"),
                    t.gettext("Response"),
                ),
                tuple(
                    (
                        idea.id,
                        idea.text,
                        idea.supports,
                        status_label(t, idea.status),
                        idea.response or "",
                    )
                    for idea in ideas
                ),
            ),
        ),
        charts=(
            Bars(
                "ideas",
                t.gettext("Ideas by status"),
                tuple(status_label(t, s) for s in order if statuses.get(s)),
                tuple(float(statuses[s]) for s in order if statuses.get(s)),
            ),
        ),
    )
