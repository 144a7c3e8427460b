"""What the polls family gives the annual report: the decisions of the year (polls closed, their
participation and outcome)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import Translator
from bot.storage.polls import Poll
from commands.polls.render import outcome_line
from commands.polls.store import poll_results
from digests.report import Bars, Figure, ReportPart, Table


def report_polls(db: Session, t: Translator, since: datetime, until: datetime) -> ReportPart | None:
    polls = list(
        db.scalars(
            select(Poll)
            .where(Poll.closed_at.is_not(None), Poll.closed_at >= since, Poll.closed_at < until)
            .order_by(Poll.closed_at, Poll.id)
        )
    )
    if not polls:
        return None
    rows = []
    voters = []
    for poll in polls:
        results = poll_results(db, poll)
        assert poll.closed_at is not None
        voters.append(results.voters)
        rows.append(
            (
                poll.id,
                poll.question,
                t.date(poll.closed_at),
                t.gettext("yes") if poll.anonymous else t.gettext("no"),
                results.voters,
                outcome_line(t, poll, results, final=True) or "",
            )
        )
    return ReportPart(
        key="polls",
        title=t.gettext("Decisions"),
        order=20,
        figures=(
            Figure(t.gettext("Polls closed"), len(polls)),
            Figure(t.gettext("Votes cast"), sum(voters)),
            Figure(t.gettext("Participants per poll (mean)"), round(sum(voters) / len(polls), 1)),
        ),
        tables=(
            Table(
                t.gettext("Polls of the year"),
                (
                    t.gettext("No."),
                    t.gettext("Question"),
                    t.gettext("Closed on"),
                    t.gettext("Anonymous"),
                    t.gettext("Participants"),
                    t.gettext("Outcome"),
                ),
                tuple(rows),
            ),
        ),
        charts=(
            Bars(
                "polls",
                t.gettext("Participants per poll"),
                tuple(poll.question for poll in polls[-15:]),
                tuple(float(v) for v in voters[-15:]),
            ),
        ),
    )
