"""Answering, one question at a time: where a member is, recording an answer (or a skip) and
showing the next question. Used by the buttons, ``/questionnaire repondre`` and the private
messages that answer a free-text question."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.context import Context
from bot.core import Reply
from bot.i18n import Translator, fold
from bot.storage.questionnaires import (
    MAX_TEXT_ANSWER,
    Audience,
    QuestionKind,
    Questionnaire,
    QuestionnaireQuestion,
    QuestionnaireRecipient,
    QuestionnaireStatus,
)
from commands.questionnaires.errors import (
    AlreadyAnswered,
    AlreadyFinished,
    DeadlinePassed,
    EmptyAnswer,
    NotAChoice,
    NotARecipient,
    NotLaunched,
    OneChoiceOnly,
    OutOfScale,
    QuestionnaireClosed,
    TextTooLong,
)
from commands.questionnaires.render import labels, option_count, question_reply, value_label
from commands.questionnaires.store import (
    add_recipients,
    advance,
    get_questionnaire,
    questions,
    recipient,
    store_answer,
)


@dataclass(slots=True)
class Answering:
    """A member's place in a questionnaire they answer."""

    questionnaire: Questionnaire
    questions: list[QuestionnaireQuestion]
    recipient: QuestionnaireRecipient

    @property
    def total(self) -> int:
        return len(self.questions)

    @property
    def current(self) -> QuestionnaireQuestion | None:
        position = self.recipient.answered
        return self.questions[position] if position < self.total else None


def check_open(ctx: Context, questionnaire: Questionnaire) -> None:
    t = ctx.t
    if questionnaire.status == QuestionnaireStatus.DRAFT:
        raise NotLaunched(t, questionnaire.id)
    if questionnaire.status == QuestionnaireStatus.CLOSED:
        raise QuestionnaireClosed(t, questionnaire.id)
    if questionnaire.deadline is not None and ctx.now() >= questionnaire.deadline:
        raise DeadlinePassed(t, questionnaire.id, date=t.datetime(questionnaire.deadline))


def answering(ctx: Context, number: int, *, join: bool = False) -> Answering:
    """Where the actor is in questionnaire ``number`` (open, and sent to them).

    ``join``: the actor pressed the channel's "Answer" button; a channel questionnaire counts
    whoever answers from its channel as a recipient.
    """
    questionnaire = get_questionnaire(ctx.db, number, ctx.t)
    check_open(ctx, questionnaire)
    found = recipient(ctx.db, questionnaire.id, ctx.member.id)
    if found is None:
        from_channel = (
            questionnaire.audience == Audience.CHANNEL
            and ctx.place.platform == questionnaire.platform
            and ctx.place.channel_id == questionnaire.audience_ref
        )
        if not (join and from_channel):
            raise NotARecipient(ctx.t, questionnaire.id)
        add_recipients(ctx.db, questionnaire.id, [ctx.member.id], ctx.now())
        found = recipient(ctx.db, questionnaire.id, ctx.member.id)
        assert found is not None
    return Answering(questionnaire, questions(ctx.db, questionnaire.id), found)


def finished_text(t: Translator, questionnaire: Questionnaire) -> str:
    return t.gettext(
        "Thank you! Your answers to questionnaire {ref} “{title}” are recorded.",
        ref=t.ref(questionnaire.id),
        title=questionnaire.title,
    )


def show_current(ctx: Context, state: Answering, *, before: str = "") -> Reply:
    question = state.current
    if question is None:
        raise AlreadyFinished(ctx.t, state.questionnaire.id)
    return question_reply(ctx.t, state.questionnaire, question, state.total, before=before)


def record(ctx: Context, state: Answering, position: int, value: str | None) -> Reply:
    """Records ``value`` (None: skipped) for question ``position`` and shows the next one."""
    t = ctx.t
    questionnaire = state.questionnaire
    if state.recipient.finished_at is not None:
        raise AlreadyFinished(t, questionnaire.id)
    if position != state.recipient.answered or position >= state.total:
        raise AlreadyAnswered(t, questionnaire.id)
    if not advance(ctx.db, questionnaire.id, ctx.member.id, position, state.total, ctx.now()):
        raise AlreadyAnswered(t, questionnaire.id)  # a concurrent click went first
    if value is not None:
        store_answer(ctx.db, questionnaire, state.questions[position], ctx.member.id, value)
    ctx.db.refresh(state.recipient)
    done = t.gettext("Recorded.") if value is not None else t.gettext("Skipped.")
    if position + 1 >= state.total:
        return Reply(text=done + " " + finished_text(t, questionnaire), ephemeral=True)
    return show_current(ctx, state, before=done)


_NUMBERS = re.compile(r"[\s,;]+")


def read_answer(t: Translator, question: QuestionnaireQuestion, text: str) -> str:
    """An answer typed as text, as it is stored (steps and options 1-based)."""
    text = " ".join(text.split())
    if not text:
        raise EmptyAnswer(t)
    if question.kind == QuestionKind.TEXT:
        if len(text) > MAX_TEXT_ANSWER:
            raise TextTooLong(t, limit=MAX_TEXT_ANSWER, length=len(text))
        return text
    size = option_count(question)
    names = [fold(name) for name in labels(question)]
    if fold(text) in names:
        return str(names.index(fold(text)) + 1)
    words = [word for word in _NUMBERS.split(text) if word]
    if not all(word.isascii() and word.isdigit() for word in words):
        raise _refusal(t, question, size)
    numbers = sorted({int(word) for word in words})
    if not numbers or numbers[0] < 1 or numbers[-1] > size:
        raise _refusal(t, question, size)
    if question.kind != QuestionKind.MULTIPLE and len(numbers) > 1:
        if question.kind == QuestionKind.SCALE:
            raise _refusal(t, question, size)
        raise OneChoiceOnly(t, size=size)
    return ",".join(str(n) for n in numbers)


def _refusal(t: Translator, question: QuestionnaireQuestion, size: int) -> Exception:
    if question.kind == QuestionKind.SCALE:
        steps = [t.quote(value_label(question, i)) for i in range(1, size + 1)]
        return OutOfScale(t, size=size, labels=", ".join(steps))
    return NotAChoice(t, size=size)


def answer_mask(mask: int, size: int) -> str | None:
    """A multiple-choice selection carried by the buttons, as stored; None when empty."""
    chosen = [str(i) for i in range(1, size + 1) if mask & (1 << (i - 1))]
    return ",".join(chosen) or None
