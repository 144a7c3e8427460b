"""What the questionnaires store about a member, for their rights over it: the questionnaires
they were sent and their answers. Erasing unlinks the answers from them (the answers stay,
anonymous, in the questionnaire's results) and deletes their invitations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.context import Context
from bot.family import ErasedMember, MemberData
from bot.storage.base import changed_rows
from bot.storage.members import Member
from bot.storage.questionnaires import (
    Questionnaire,
    QuestionnaireAnswer,
    QuestionnaireQuestion,
    QuestionnaireRecipient,
)


def export(db: Session, member: Member) -> Mapping[str, Any]:
    answers = db.execute(
        select(Questionnaire.title, QuestionnaireQuestion.text, QuestionnaireAnswer.value)
        .join(Questionnaire, Questionnaire.id == QuestionnaireAnswer.questionnaire_id)
        .join(QuestionnaireQuestion, QuestionnaireQuestion.id == QuestionnaireAnswer.question_id)
        .where(QuestionnaireAnswer.member_id == member.id)
    ).all()
    sent = db.scalars(
        select(QuestionnaireRecipient.questionnaire_id).where(
            QuestionnaireRecipient.member_id == member.id
        )
    ).all()
    return {
        "questionnaires_sent": list(sent),
        "answers": [
            {"questionnaire": title, "question": question, "answer": value}
            for title, question, value in answers
        ],
    }


def erase(ctx: Context, who: ErasedMember) -> Mapping[str, int]:
    answers = changed_rows(
        ctx.db.execute(
            update(QuestionnaireAnswer)
            .where(QuestionnaireAnswer.member_id == who.id)
            .values(member_id=None)
        )
    )
    invitations = changed_rows(
        ctx.db.execute(
            delete(QuestionnaireRecipient).where(QuestionnaireRecipient.member_id == who.id)
        )
    )
    return {"answers_kept_anonymous": answers, "invitations_deleted": invitations}


MEMBER_DATA = MemberData(
    export=export,
    erase=erase,
    holds=("the questionnaires you were sent", "your answers"),
)
