"""Queries on the questionnaires' tables. An answer is recorded only by the statement that
moves its recipient from position P to P + 1 (``UPDATE … WHERE answered = P``): a double click,
two devices or a replayed button never count an answer twice."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.i18n import Translator
from bot.storage.questionnaires import (
    Questionnaire,
    QuestionnaireAnswer,
    QuestionnaireQuestion,
    QuestionnaireRecipient,
    QuestionnaireStatus,
)
from commands.questionnaires.errors import QuestionnaireNotFound


def get_questionnaire(db: Session, number: int, t: Translator) -> Questionnaire:
    found = db.get(Questionnaire, number, populate_existing=True)
    if found is None:
        raise QuestionnaireNotFound(t, number)
    return found


def questions(db: Session, questionnaire_id: int) -> list[QuestionnaireQuestion]:
    return list(
        db.scalars(
            select(QuestionnaireQuestion)
            .where(QuestionnaireQuestion.questionnaire_id == questionnaire_id)
            .order_by(QuestionnaireQuestion.position)
        )
    )


def question_count(db: Session, questionnaire_id: int) -> int:
    return int(
        db.scalar(
            select(func.count(QuestionnaireQuestion.id)).where(
                QuestionnaireQuestion.questionnaire_id == questionnaire_id
            )
        )
        or 0
    )


def recipient(db: Session, questionnaire_id: int, member_id: int) -> QuestionnaireRecipient | None:
    return db.get(QuestionnaireRecipient, (questionnaire_id, member_id), populate_existing=True)


def add_recipients(
    db: Session, questionnaire_id: int, member_ids: Sequence[int], now: datetime
) -> list[int]:
    """Adds the members not yet recipients; returns those added."""
    known = set(
        db.scalars(
            select(QuestionnaireRecipient.member_id).where(
                QuestionnaireRecipient.questionnaire_id == questionnaire_id
            )
        )
    )
    added = [m for m in dict.fromkeys(member_ids) if m not in known]
    for member_id in added:
        db.add(
            QuestionnaireRecipient(
                questionnaire_id=questionnaire_id, member_id=member_id, invited_at=now
            )
        )
    db.flush()
    return added


def advance(
    db: Session,
    questionnaire_id: int,
    member_id: int,
    position: int,
    total: int,
    now: datetime,
) -> bool:
    """Moves the recipient past question ``position``; False when they were not there."""
    done = position + 1 >= total
    result = db.execute(
        update(QuestionnaireRecipient)
        .where(
            QuestionnaireRecipient.questionnaire_id == questionnaire_id,
            QuestionnaireRecipient.member_id == member_id,
            QuestionnaireRecipient.answered == position,
        )
        .values(answered=position + 1, finished_at=now if done else None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def store_answer(
    db: Session,
    questionnaire: Questionnaire,
    question: QuestionnaireQuestion,
    member_id: int,
    value: str,
) -> None:
    """One answer row: random key, no timestamp, and no member when anonymous."""
    db.add(
        QuestionnaireAnswer(
            key=secrets.token_hex(16),
            questionnaire_id=questionnaire.id,
            question_id=question.id,
            member_id=None if questionnaire.anonymous else member_id,
            value=value,
        )
    )


def answers_by_question(
    db: Session, questionnaire_id: int
) -> dict[int, list[tuple[str, int | None]]]:
    """Per question id: (value, member id or None), in key order (random, not arrival)."""
    found: dict[int, list[tuple[str, int | None]]] = {}
    for question_id, value, member_id in db.execute(
        select(
            QuestionnaireAnswer.question_id,
            QuestionnaireAnswer.value,
            QuestionnaireAnswer.member_id,
        )
        .where(QuestionnaireAnswer.questionnaire_id == questionnaire_id)
        .order_by(QuestionnaireAnswer.key)
    ):
        found.setdefault(int(question_id), []).append((str(value), member_id))
    return found


def participation(db: Session, questionnaire_id: int) -> tuple[int, int, int]:
    """(recipients, started, finished)."""
    row = db.execute(
        select(
            func.count(),
            func.count().filter(QuestionnaireRecipient.answered > 0),
            func.count().filter(QuestionnaireRecipient.finished_at.is_not(None)),
        ).where(QuestionnaireRecipient.questionnaire_id == questionnaire_id)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def unfinished(db: Session, questionnaire_id: int) -> list[QuestionnaireRecipient]:
    return list(
        db.scalars(
            select(QuestionnaireRecipient)
            .where(
                QuestionnaireRecipient.questionnaire_id == questionnaire_id,
                QuestionnaireRecipient.finished_at.is_(None),
            )
            .order_by(QuestionnaireRecipient.member_id)
        )
    )


def pending_for(db: Session, member_id: int) -> list[QuestionnaireRecipient]:
    """The member's open questionnaires not finished, the latest invitation first."""
    return list(
        db.scalars(
            select(QuestionnaireRecipient)
            .join(Questionnaire, Questionnaire.id == QuestionnaireRecipient.questionnaire_id)
            .where(
                QuestionnaireRecipient.member_id == member_id,
                QuestionnaireRecipient.finished_at.is_(None),
                Questionnaire.status == QuestionnaireStatus.OPEN,
            )
            .order_by(QuestionnaireRecipient.invited_at.desc(), Questionnaire.id.desc())
        )
    )
