"""A session's feedback comment, through the questionnaires' machinery: each session has (at
most) one questionnaire of one free-text question (``session_id`` set, unique), created when its
first attendee gives feedback; the attendee is added as a recipient and asked the question
privately, and answers by a private message or ``/questionnaire repondre N``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import Reply
from bot.storage.questionnaires import (
    Audience,
    QuestionKind,
    Questionnaire,
    QuestionnaireAnswer,
    QuestionnaireQuestion,
    QuestionnaireStatus,
)
from commands.questionnaires.render import question_reply
from commands.questionnaires.store import add_recipients, questions, recipient


def _comment_questionnaire(ctx: Context, session_id: int, title: str) -> Questionnaire:
    found = ctx.db.scalar(select(Questionnaire).where(Questionnaire.session_id == session_id))
    if found is not None:
        return found
    public = ctx.translators.get(ctx.settings.network.locale)
    now = ctx.now()
    try:
        with ctx.db.begin_nested():
            questionnaire = Questionnaire(
                title=public.gettext("Comments on “{title}”", title=title),
                platform=ctx.place.platform,
                channel_id=ctx.place.channel_id,
                status=QuestionnaireStatus.OPEN,
                audience=Audience.SESSION,
                audience_ref=str(session_id),
                session_id=session_id,
                max_reminders=0,
                launched_at=now,
                created_at=now,
                updated_at=now,
            )
            ctx.db.add(questionnaire)
            ctx.db.flush()
            ctx.db.add(
                QuestionnaireQuestion(
                    questionnaire_id=questionnaire.id,
                    position=0,
                    kind=QuestionKind.TEXT,
                    text=public.gettext("A comment on this session? (optional)"),
                    choices="",
                )
            )
            ctx.db.flush()
    except IntegrityError:  # another attendee created it at the same moment
        created = ctx.db.scalar(select(Questionnaire).where(Questionnaire.session_id == session_id))
        assert created is not None
        return created
    return questionnaire


def comment_prompt(ctx: Context, session_id: int, title: str) -> Reply | None:
    """The optional comment question for the actor after their feedback (None when they
    already commented)."""
    questionnaire = _comment_questionnaire(ctx, session_id, title)
    found = questions(ctx.db, questionnaire.id)
    add_recipients(ctx.db, questionnaire.id, [ctx.member.id], ctx.now())
    row = recipient(ctx.db, questionnaire.id, ctx.member.id)
    if row is None or row.answered >= len(found):
        return None
    return question_reply(ctx.t, questionnaire, found[row.answered], len(found))


def session_comments(db: Session, session_ids: Sequence[int]) -> dict[int, list[str]]:
    """The comments left on each session (text only, no names), sorted."""
    if not session_ids:
        return {}
    rows = db.execute(
        select(Questionnaire.session_id, QuestionnaireAnswer.value)
        .join(QuestionnaireAnswer, QuestionnaireAnswer.questionnaire_id == Questionnaire.id)
        .where(Questionnaire.session_id.in_(list(session_ids)))
    ).all()
    found: dict[int, list[str]] = {}
    for session_id, value in rows:
        if session_id is not None:
            found.setdefault(int(session_id), []).append(str(value))
    return {key: sorted(values, key=str.casefold) for key, values in found.items()}
