"""Inviting and reminding: the direct messages of a launch, the reminders (sent by ``relancer``
or, for a questionnaire with a deadline, by the due work ``questionnaires`` at 1/3 and 2/3 of
its time when ``max_reminders`` is 2: evenly before the deadline), at most ``max_reminders`` in
all, each to those who have not finished, with their current question."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import Choice, ChoiceStyle, DirectTarget, PlaceTarget, Reply, Target
from bot.family import Host
from bot.i18n import Translator
from bot.outbox import enqueue
from bot.storage.members import Member
from bot.storage.questionnaires import Audience, Questionnaire, QuestionnaireStatus
from commands.questionnaires.render import heading, question_reply
from commands.questionnaires.store import questions, recipient, unfinished

log = logging.getLogger(__name__)

WORK_NAME = "questionnaires"
Send = Callable[[str, Reply, Target], object]
"""``(outbox key, reply, target)``: puts one message in the outbox."""


def announcement(t: Translator, questionnaire: Questionnaire, total: int) -> Reply:
    lines = [heading(t, questionnaire)]
    if questionnaire.intro:
        lines.append(questionnaire.intro)
    lines.append(
        t.ngettext(
            "{n} question, answered privately, one at a time; you may stop and resume.",
            "{n} questions, answered privately, one at a time; you may stop and resume.",
            total,
        )
    )
    if questionnaire.anonymous:
        lines.append(t.gettext("🔒 Anonymous: nothing stored links your answers to you."))
    if questionnaire.deadline is not None:
        lines.append(t.gettext("Until {date}.", date=t.datetime(questionnaire.deadline)))
    return Reply(
        text="\n".join(lines),
        choices=(
            Choice(t.gettext("Answer"), f"survey:{questionnaire.id}:start", ChoiceStyle.PRIMARY),
        ),
    )


def invite(
    db: Session,
    questionnaire: Questionnaire,
    member_ids: Sequence[int],
    *,
    key: str,
    translator_for: Callable[[Member], Translator],
    send: Send,
) -> None:
    """Each member gets their current question by direct message (``key``: ``invite`` or
    ``remind<k>``)."""
    if not member_ids:
        return
    found = questions(db, questionnaire.id)
    for member in db.scalars(select(Member).where(Member.id.in_(list(member_ids)))):
        t = translator_for(member)
        # the question below starts with the questionnaire's heading: not twice
        intro = [questionnaire.intro] if questionnaire.intro else []
        question = found[0]
        if key != "invite":
            row = recipient(db, questionnaire.id, member.id)
            if row is not None and row.answered < len(found):
                question = found[row.answered]
            intro.insert(0, t.gettext("⏰ A reminder: your answers are awaited."))
        if questionnaire.deadline is not None:
            intro.append(t.gettext("Until {date}.", date=t.datetime(questionnaire.deadline)))
        reply = question_reply(t, questionnaire, question, len(found), before="\n".join(intro))
        send(
            f"survey:{questionnaire.id}:{key}:{member.id}",
            Reply(text=reply.text, choices=reply.choices),
            DirectTarget(platform=member.platform, user_id=member.user_id),
        )


def remind(
    db: Session,
    questionnaire: Questionnaire,
    *,
    public_t: Translator,
    translator_for: Callable[[Member], Translator],
    send: Send,
    now: datetime,
) -> int:
    """One more reminder (the caller checked there is one left); how many were reminded."""
    waiting = unfinished(db, questionnaire.id)
    questionnaire.reminders_sent += 1
    questionnaire.updated_at = now
    k = questionnaire.reminders_sent
    for row in waiting:
        row.reminded += 1
    invite(
        db,
        questionnaire,
        [r.member_id for r in waiting],
        key=f"remind{k}",
        translator_for=translator_for,
        send=send,
    )
    if questionnaire.audience == Audience.CHANNEL and questionnaire.audience_ref:
        post = announcement(public_t, questionnaire, len(questions(db, questionnaire.id)))
        send(
            f"survey:{questionnaire.id}:remind{k}",
            Reply(
                text=public_t.gettext("⏰ A reminder: your answers are awaited.")
                + "\n"
                + post.text,
                choices=post.choices,
            ),
            PlaceTarget(questionnaire.platform, questionnaire.audience_ref),
        )
    return len(waiting)


def reminder_due(questionnaire: Questionnaire) -> datetime | None:
    """When the next automatic reminder falls: the time from launch to deadline split evenly
    (none without a deadline, or once ``max_reminders`` were sent)."""
    start, end = questionnaire.launched_at, questionnaire.deadline
    if start is None or end is None or questionnaire.reminders_sent >= questionnaire.max_reminders:
        return None
    parts = questionnaire.max_reminders + 1
    return start + (end - start) * (questionnaire.reminders_sent + 1) / parts


class ReminderWork:
    """The due work ``questionnaires``: automatic reminders of open questionnaires with a
    deadline. Everything comes from the database, so a restart loses nothing; a reminder whose
    moment passed while the bot was stopped is sent when it starts (if still before the
    deadline)."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def _open(self, db: Session) -> list[Questionnaire]:
        now = self.host.clock.now()
        return list(
            db.scalars(
                select(Questionnaire).where(
                    Questionnaire.status == QuestionnaireStatus.OPEN,
                    Questionnaire.deadline > now,
                    Questionnaire.session_id.is_(None),
                    Questionnaire.reminders_sent < Questionnaire.max_reminders,
                )
            )
        )

    def next_due(self) -> datetime | None:
        with self.host.sessions() as db:
            moments = [m for q in self._open(db) if (m := reminder_due(q)) is not None]
        return min(moments, default=None)

    async def run(self) -> None:
        now = self.host.clock.now()
        network = self.host.settings.network.locale

        def translator_for(member: Member) -> Translator:
            return self.host.translators.get(member.locale, network)

        sent = 0
        with self.host.sessions.begin() as db:

            def send(key: str, reply: Reply, target: Target) -> None:
                enqueue(db, key=key, reply=reply, target=target, due_at=now, now=now)

            for questionnaire in self._open(db):
                due = reminder_due(questionnaire)
                if due is None or due > now:
                    continue
                remind(
                    db,
                    questionnaire,
                    public_t=self.host.translator(),
                    translator_for=translator_for,
                    send=send,
                    now=now,
                )
                sent += 1
                log.info(
                    "questionnaire %s: reminder %s sent",
                    questionnaire.id,
                    questionnaire.reminders_sent,
                )
        if sent:
            await self.host.after_change({"outbox"})


def setup_reminders(host: Host) -> None:
    work = ReminderWork(host)
    host.scheduler.add_due_work(WORK_NAME, work.next_due, work.run)
