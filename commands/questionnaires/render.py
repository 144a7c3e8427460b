"""How a questionnaire reads: kinds by name, a question with its buttons, the preview."""

from __future__ import annotations

from types import MappingProxyType

from bot.core import Choice, ChoiceStyle, Reply, TextPrompt
from bot.i18n import N_, Translator, fold
from bot.storage.questionnaires import (
    MAX_TEXT_ANSWER,
    QuestionKind,
    Questionnaire,
    QuestionnaireQuestion,
)

DEFAULT_SCALE = 5
KIND_WORDS = MappingProxyType(
    {
        "echelle": QuestionKind.SCALE,
        "scale": QuestionKind.SCALE,
        "note": QuestionKind.SCALE,
        "choix": QuestionKind.SINGLE,
        "choix-unique": QuestionKind.SINGLE,
        "choice": QuestionKind.SINGLE,
        "single": QuestionKind.SINGLE,
        "choix-multiple": QuestionKind.MULTIPLE,
        "multiple": QuestionKind.MULTIPLE,
        "texte": QuestionKind.TEXT,
        "text": QuestionKind.TEXT,
        "libre": QuestionKind.TEXT,
    }
)
KIND_LABELS = MappingProxyType(
    {
        QuestionKind.SCALE: N_("scale"),
        QuestionKind.SINGLE: N_("single choice"),
        QuestionKind.MULTIPLE: N_("multiple choice"),
        QuestionKind.TEXT: N_("free text"),
    }
)


def read_kind(text: str) -> QuestionKind | None:
    return KIND_WORDS.get(fold(text).strip().replace(" ", "-"))


def kind_words(t: Translator) -> str:
    if t.locale == "fr":
        return "echelle, choix, choix-multiple, texte"
    return "scale, choice, multiple, text"


def labels(question: QuestionnaireQuestion) -> list[str]:
    return [line for line in question.choices.split("\n") if line]


def scale_size(question: QuestionnaireQuestion) -> int:
    return len(labels(question)) or DEFAULT_SCALE


def option_count(question: QuestionnaireQuestion) -> int:
    if question.kind == QuestionKind.SCALE:
        return scale_size(question)
    return len(labels(question))


def value_label(question: QuestionnaireQuestion, index: int) -> str:
    """The label of step or option ``index`` (1-based)."""
    names = labels(question)
    if question.kind == QuestionKind.SCALE and not names:
        return str(index)
    return names[index - 1]


def kind_label(t: Translator, kind: str) -> str:
    return t.gettext(KIND_LABELS[QuestionKind(kind)])


def heading(t: Translator, questionnaire: Questionnaire) -> str:
    return t.gettext(
        "📋 **Questionnaire {ref} — {title}**",
        ref=t.ref(questionnaire.id),
        title=questionnaire.title,
    )


def describe_question(t: Translator, question: QuestionnaireQuestion) -> list[str]:
    """The question and its possible answers, as the preview lists them."""
    lines = [
        t.gettext(
            "**{number}.** {text} ({kind})",
            number=question.position + 1,
            text=question.text,
            kind=kind_label(t, question.kind),
        )
    ]
    if question.kind == QuestionKind.SCALE and not labels(question):
        lines.append("   " + t.gettext("from 1 to {size}", size=DEFAULT_SCALE))
    elif question.kind != QuestionKind.TEXT:
        lines.append(
            "   " + " · ".join(f"({i}) {name}" for i, name in enumerate(labels(question), 1))
        )
    return lines


def _prefix(questionnaire: Questionnaire, position: int) -> str:
    return f"survey:{questionnaire.id}:q:{position}"


def question_choices(
    t: Translator, questionnaire: Questionnaire, question: QuestionnaireQuestion, mask: int = 0
) -> tuple[Choice, ...]:
    prefix = _prefix(questionnaire, question.position)
    found: list[Choice] = []
    if question.kind in (QuestionKind.SCALE, QuestionKind.SINGLE):
        found.extend(
            Choice(value_label(question, i), f"{prefix}:v:{i}")
            for i in range(1, option_count(question) + 1)
        )
    elif question.kind == QuestionKind.MULTIPLE:
        for i, name in enumerate(labels(question), 1):
            chosen = bool(mask & (1 << (i - 1)))
            found.append(
                Choice(
                    ("✅ " if chosen else "") + name,
                    f"{prefix}:m:{mask ^ (1 << (i - 1))}:{i}",
                    ChoiceStyle.SUCCESS if chosen else ChoiceStyle.SECONDARY,
                )
            )
        found.append(Choice(t.gettext("Confirm"), f"{prefix}:m:{mask}:ok", ChoiceStyle.PRIMARY))
    elif question.kind == QuestionKind.TEXT:
        # Where the platform has a form (Discord: a modal); elsewhere a private message answers.
        found.append(
            Choice(
                t.gettext("Answer"),
                f"{prefix}:t",
                ChoiceStyle.PRIMARY,
                asks_text=TextPrompt(question.text, MAX_TEXT_ANSWER),
            )
        )
    found.append(Choice(t.gettext("Skip"), f"{prefix}:skip"))
    found.append(Choice(t.gettext("Later"), f"survey:{questionnaire.id}:stop"))
    return tuple(found)


def question_reply(
    t: Translator,
    questionnaire: Questionnaire,
    question: QuestionnaireQuestion,
    total: int,
    *,
    mask: int = 0,
    before: str = "",
) -> Reply:
    """One question, to answer privately, with its buttons."""
    lines = [before, ""] if before else []
    lines.extend(
        [
            heading(t, questionnaire),
            t.gettext("Question {number} of {total}", number=question.position + 1, total=total),
            "",
            f"**{question.text}**",
        ]
    )
    n = questionnaire.id
    if question.kind == QuestionKind.SCALE:
        size = scale_size(question)
        if labels(question):
            hint = t.gettext("Choose a step, or type /survey answer {n} and its number.", n=n)
        else:
            hint = t.gettext(
                "From 1 (not at all) to {size} (fully): choose, or type /survey answer {n} 4.",
                size=size,
                n=n,
            )
    elif question.kind == QuestionKind.SINGLE:
        hint = t.gettext("Choose one option, or type /survey answer {n} and its number.", n=n)
    elif question.kind == QuestionKind.MULTIPLE:
        hint = t.gettext(
            "Choose every option that applies, then Confirm; or type /survey answer {n} 1 3.",
            n=n,
        )
    else:
        hint = t.gettext(
            "Write your answer to me in a private message (or /survey answer {n} your text).",
            n=n,
        )
    lines.extend(["", hint])
    if question.kind == QuestionKind.TEXT:
        lines.append(
            t.gettext("Your words may be quoted, without your name, in the network's reports.")
        )
    if questionnaire.anonymous:
        lines.append(t.gettext("🔒 Anonymous: nothing stored links your answers to you."))
    return Reply(
        text="\n".join(lines),
        choices=question_choices(t, questionnaire, question, mask),
        ephemeral=True,
    )
