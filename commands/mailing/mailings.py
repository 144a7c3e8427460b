"""What goes out by email, and when: the weekly digest, the gazette and session invitations,
each mailed to its subscribers once it is due in the chat.

The families that make these deliverables write them to the outbox (a place row, its key in the
formats of ``docs/design.md``); this module reads those rows, never the families: a row due now
(or in the last day), not withdrawn, whose key is one of

- ``digest:<platform>:<channel>:<ISO week>`` (its text, and its HTML attached),
- ``gazette:<id>:publish`` (the summary, the HTML attached),
- ``session:<id>:announce``, ``session:<id>:changed:<sequence>``, ``session:<id>:cancelled``
  (the text, and the ``.ics`` that becomes an invitation: ``METHOD:REQUEST``, or ``CANCEL``),

becomes one mailing (``email_bodies``, the same key), queued to every confirmed subscriber who
chose it: one outbox row per recipient and item (``email:<key>:<subscriber>``), so nothing is
mailed twice, whatever restarts. A mailing already stored is the mark that the item was mailed.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from bot import mail
from bot.config import Settings
from bot.core import Reply
from bot.i18n import N_, Translator
from bot.storage.email import EmailBody
from bot.storage.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

POLL = timedelta(minutes=5)
"""How often the provider looks for new items when none is known to be due."""
WINDOW = timedelta(days=1)
"""Items due longer ago are not mailed (a bot that starts sending email does not mail the
archive)."""

_PATTERNS = ("digest:%", "gazette:%:publish", "session:%:announce", "session:%:changed:%")
_CANCELLED = "session:%:cancelled"
_DIGEST = re.compile(r"^digest:[^:]+:(?P<channel>.+):(?P<period>\d{4}-W\d{2})$")
_GAZETTE = re.compile(r"^gazette:(?P<id>\d+):publish$")
_SESSION = re.compile(r"^session:(?P<id>\d+):(?P<what>announce|changed:\d+|cancelled)$")

DIGEST_SUBJECT = N_("{network}: the watch of week {week}")
GAZETTE_SUBJECT = N_("{network}: the gazette is out")
SESSION_SUBJECT = N_("Invitation: {title}")
SESSION_CHANGED_SUBJECT = N_("Updated: {title}")
SESSION_CANCELLED_SUBJECT = N_("Cancelled: {title}")


def _candidates(now: datetime) -> Select[OutboxMessage]:
    return (
        select(OutboxMessage)
        .where(
            OutboxMessage.target_kind == "place",
            OutboxMessage.status != OutboxStatus.SKIPPED,
            OutboxMessage.due_at >= now - WINDOW,
            or_(
                *(OutboxMessage.key.like(p) for p in _PATTERNS),
                OutboxMessage.key.like(_CANCELLED),
            ),
            ~exists().where(EmailBody.key == OutboxMessage.key),
        )
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
    )


def next_due(db: Session, now: datetime) -> datetime:
    """The moment of the next item to mail, else the next look (:data:`POLL`)."""
    ids = _candidates(now).with_only_columns(OutboxMessage.id).order_by(None)
    due: datetime | None = db.scalar(
        select(func.min(OutboxMessage.due_at)).where(OutboxMessage.id.in_(ids))
    )
    return min(due, now + POLL) if due is not None else now + POLL


def mail_due(db: Session, settings: Settings, t: Translator, now: datetime) -> int:
    """Queue every item due now to its subscribers; returns how many emails were queued."""
    queued = 0
    rows = db.scalars(_candidates(now).where(OutboxMessage.due_at <= now)).all()
    for row in rows:
        mailing, choice = _mailing(row, settings, t)
        if mailing is None or choice is None:
            continue
        ids = [s.id for s in mail.recipients(db, choice)]
        queued += mail.queue(db, mailing, ids, now)
        log.info("email: %s queued to %s subscriber(s)", row.key, len(ids))
    return queued


def _domain(settings: Settings) -> str:
    assert settings.email is not None
    return settings.email.sender.rpartition("@")[2]


def _label(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:40] or "x"


def _title(reply: Reply) -> str:
    first = next((line for line in reply.text.splitlines() if line.strip()), "")
    return mail.header_text(re.sub(r"[*_`~]+", "", first), 150)


def _mailing(
    row: OutboxMessage, settings: Settings, t: Translator
) -> tuple[mail.Mailing | None, mail.Choice | None]:
    reply = Reply.from_payload(row.payload)
    network = settings.network.name
    domain = _domain(settings)
    html = next((a for a in reply.attachments if a.media_type == "text/html"), None)
    if (found := _DIGEST.match(row.key)) is not None:
        week = found["period"].partition("-W")[2].lstrip("0")
        return (
            mail.Mailing(
                key=row.key,
                kind="digest",
                subject=t.gettext(DIGEST_SUBJECT, network=network, week=week),
                text=reply.text,
                html=mail.inline_css(html.data.decode("utf-8")) if html else None,
                list_id=f"{network} — veille <veille.{_label(found['channel'])}.{domain}>",
            ),
            "digest",
        )
    if _GAZETTE.match(row.key) is not None:
        return (
            mail.Mailing(
                key=row.key,
                kind="gazette",
                subject=t.gettext(GAZETTE_SUBJECT, network=network),
                text=reply.text,
                parts=[
                    mail.Part(a.filename, a.media_type, a.data)
                    for a in reply.attachments
                    if a.media_type in ("text/html", "application/pdf")
                ],
                list_id=f"{network} — gazette <gazette.{domain}>",
            ),
            "gazette",
        )
    if (found := _SESSION.match(row.key)) is not None:
        ics = next((a for a in reply.attachments if a.media_type == "text/calendar"), None)
        what = found["what"]
        cancelled = what == "cancelled" or (ics is not None and b"METHOD:CANCEL" in ics.data)
        subject = (
            SESSION_CANCELLED_SUBJECT
            if cancelled
            else SESSION_CHANGED_SUBJECT
            if what.startswith("changed")
            else SESSION_SUBJECT
        )
        return (
            mail.Mailing(
                key=row.key,
                kind="session",
                subject=t.gettext(subject, title=_title(reply)),
                text=reply.text,
                parts=[
                    mail.Part(
                        ics.filename,
                        "text/calendar",
                        ics.data,
                        "CANCEL" if cancelled else "REQUEST",
                    )
                ]
                if ics is not None
                else [],
                list_id=f"{network} — sessions <sessions.{domain}>",
            ),
            "sessions",
        )
    return None, None
