"""The ballots of a poll as a CSV file (``/sondage export``, coordinators)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import Attachment
from bot.i18n import Translator
from bot.storage.members import Member
from bot.storage.polls import Poll, PollBallot, PollMode
from commands.polls.ballots import ANSWER_MARKS, UNMARKED, decode_choices, decode_marks
from commands.polls.render import answer_name, grade_names, option_text
from commands.polls.store import ballot_contents


def _csv_cell(value: str) -> str:
    """Neutralise spreadsheet formulas in text typed by people."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(db: Session, poll: Poll, t: Translator) -> Attachment:
    """The ballots of ``poll`` as CSV (UTF-8 with a BOM, comma-separated). Anonymous polls have
    no participant, identifier or time columns, and rows sorted by content."""
    labels = [option_text(t, option) for option in poll.options]
    named = not poll.anonymous
    head = [t.gettext("Participant"), t.gettext("Identifier"), t.gettext("Voted at")]
    rows: list[list[str]] = []
    if named:
        records = db.execute(
            select(Member.display_name, Member.user_id, PollBallot.updated_at, PollBallot.content)
            .join(Member, Member.id == PollBallot.member_id)
            .where(PollBallot.poll_id == poll.id)
        ).all()
        records = sorted(records, key=lambda r: (r[0].casefold(), r[1]))
        for name, user_id, voted_at, content in records:
            rows.append([name, user_id, voted_at.astimezone(t.tz).isoformat(timespec="minutes")])
            rows[-1].extend(_cells(t, poll, content))
    else:
        for content in sorted(ballot_contents(db, poll)):
            rows.append(_cells(t, poll, content))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_cell(c) for c in ((head if named else []) + labels)])
    writer.writerows([_csv_cell(c) for c in row] for row in rows)
    filename = t.gettext("poll-{number}.csv", number=poll.id)
    return Attachment(filename, "text/csv", buffer.getvalue().encode("utf-8-sig"))


def _cells(t: Translator, poll: Poll, content: str) -> list[str]:
    if poll.mode in (PollMode.SINGLE, PollMode.MULTIPLE):
        chosen = set(decode_choices(content))
        return ["x" if i in chosen else "" for i in range(poll.n_options)]
    marks = decode_marks(content, poll.n_options)
    if poll.mode == PollMode.JUDGMENT:
        names = grade_names(t, poll.scale_size or 7)
        return ["" if m == UNMARKED else names[int(m)] for m in marks]
    return ["" if m == UNMARKED else answer_name(t, ANSWER_MARKS[m]) for m in marks]
