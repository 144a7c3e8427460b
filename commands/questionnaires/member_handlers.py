"""Answering a questionnaire: the buttons of a question, ``/questionnaire repondre N [texte]``
(where there are no buttons, or to resume), and a private message answering a free-text
question."""

from __future__ import annotations

import re

from bot.context import Context
from bot.core import ChoiceEvent, MessageEvent, Reply
from bot.i18n import N_
from bot.registry import Args, Option, OptionType, StaleChoice, command, on_choice
from bot.storage.questionnaires import QuestionKind
from commands.questionnaires.coordinator_handlers import GROUP, GROUP_ALIAS, NUMBER
from commands.questionnaires.errors import AlreadyAnswered, QuestionnaireError
from commands.questionnaires.flow import (
    Answering,
    answer_mask,
    answering,
    check_open,
    read_answer,
    record,
    show_current,
)
from commands.questionnaires.render import option_count, question_reply
from commands.questionnaires.store import get_questionnaire, pending_for, questions


@command(
    "repondre",
    "answer",
    N_("Answers the current question of a questionnaire by text; alone, shows it again."),
    options=[
        NUMBER,
        Option(
            "reponse",
            "answer",
            N_("A step or option number (several for a multiple choice), or your text."),
            type=OptionType.TEXT,
            positional=True,
        ),
    ],
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/questionnaire repondre 1", "/questionnaire repondre 1 4"),
)
def answer_command(ctx: Context, args: Args) -> Reply:
    state = answering(ctx, args["numero"], join=True)
    question = state.current
    if not args["reponse"] or question is None:
        return show_current(ctx, state)
    value = read_answer(ctx.t, question, args["reponse"])
    return record(ctx, state, question.position, value)


@on_choice(
    "survey",
    r"(?P<id>\d{1,9}):(?:(?P<verb>start|stop)"
    r"|q:(?P<pos>\d{1,2}):(?:v:(?P<v>\d{1,2})|m:(?P<mask>\d{1,4}):(?P<m>\d{1,2}|ok)"
    r"|(?P<skip>skip)|(?P<text>t)))",
)
def survey_choice(ctx: Context, match: re.Match[str]) -> Reply:
    number = int(match["id"])
    if match["verb"] == "stop":
        questionnaire = get_questionnaire(ctx.db, number, ctx.t)
        return Reply(
            text=ctx._(
                "Your answers so far are kept. Resume questionnaire {ref} when you like with "
                "/survey answer {n}.",
                ref=ctx.t.ref(questionnaire.id),
                n=questionnaire.id,
            ),
            ephemeral=True,
        )
    state = answering(ctx, number, join=match["verb"] == "start")
    if match["verb"] == "start":
        return show_current(ctx, state)
    position = int(match["pos"])
    question = state.questions[position] if position < state.total else None
    if question is None:
        raise StaleChoice(match.string)
    if match["skip"]:
        return record(ctx, state, position, None)
    if match["text"]:
        return _text_choice(ctx, state, position, match.string)
    size = option_count(question)
    if match["v"] is not None:
        value = int(match["v"])
        if question.kind not in (QuestionKind.SCALE, QuestionKind.SINGLE) or not 1 <= value <= size:
            raise StaleChoice(match.string)
        return record(ctx, state, position, str(value))
    if question.kind != QuestionKind.MULTIPLE:
        raise StaleChoice(match.string)
    mask = int(match["mask"])
    if mask >= 1 << size:
        raise StaleChoice(match.string)
    if match["m"] == "ok":
        return record(ctx, state, position, answer_mask(mask, size))
    _check_position(ctx, state, position)
    # A toggle: the selection lives in the buttons, nothing is stored until Confirm.
    return question_reply(ctx.t, state.questionnaire, question, state.total, mask=mask)


def _text_choice(ctx: Context, state: Answering, position: int, action: str) -> Reply:
    """The text typed in a form (a Discord modal) answers a free-text question."""
    question = state.questions[position]
    if question.kind != QuestionKind.TEXT:
        raise StaleChoice(action)
    event = ctx.event
    typed = event.values[0] if isinstance(event, ChoiceEvent) and event.values else ""
    if not typed.strip():
        _check_position(ctx, state, position)
        return question_reply(ctx.t, state.questionnaire, question, state.total)
    return record(ctx, state, position, read_answer(ctx.t, question, typed))


def _check_position(ctx: Context, state: Answering, position: int) -> None:
    if position != state.recipient.answered:
        raise AlreadyAnswered(ctx.t, state.questionnaire.id)


def private_text(ctx: Context) -> Reply | None:
    """A private message answers the member's pending free-text question, if they have one."""
    event = ctx.event
    if not isinstance(event, MessageEvent) or not ctx.place.is_direct:
        return None
    for row in pending_for(ctx.db, ctx.member.id):
        questionnaire = get_questionnaire(ctx.db, row.questionnaire_id, ctx.t)
        found = questions(ctx.db, questionnaire.id)
        if row.answered >= len(found) or found[row.answered].kind != QuestionKind.TEXT:
            continue
        try:
            check_open(ctx, questionnaire)
        except QuestionnaireError:
            continue  # closed or past its deadline: the message is not an answer to it
        try:
            value = read_answer(ctx.t, found[row.answered], event.text)
        except QuestionnaireError as refusal:
            return Reply(text=refusal.message, ephemeral=True)
        return record(ctx, Answering(questionnaire, found, row), row.answered, value)
    return None
