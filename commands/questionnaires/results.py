"""Results of a questionnaire: counts, averages and distributions per question, verbatims of the
free-text answers; the CSV export. Plain values, so the annual report reads them too."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import Attachment
from bot.i18n import Translator
from bot.storage.members import Member
from bot.storage.questionnaires import QuestionKind, Questionnaire
from commands.questionnaires.render import heading, kind_label, option_count, value_label
from commands.questionnaires.store import answers_by_question, participation, questions

BAR = 10
VERBATIMS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class QuestionResult:
    position: int
    text: str
    kind: str
    answers: int
    """How many answered it (skips not counted)."""
    labels: tuple[str, ...]
    """The steps of a scale or the options of a choice (empty for a free text)."""
    counts: tuple[int, ...]
    """Per step or option: how many chose it."""
    average: float | None
    """Scales: the mean step (1 = the first)."""
    verbatims: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuestionnaireResults:
    number: int
    title: str
    anonymous: bool
    recipients: int
    started: int
    finished: int
    questions: tuple[QuestionResult, ...]


def questionnaire_results(db: Session, questionnaire: Questionnaire) -> QuestionnaireResults:
    answers = answers_by_question(db, questionnaire.id)
    found: list[QuestionResult] = []
    for question in questions(db, questionnaire.id):
        values = [value for value, _ in answers.get(question.id, [])]
        if question.kind == QuestionKind.TEXT:
            found.append(
                QuestionResult(
                    question.position,
                    question.text,
                    question.kind,
                    len(values),
                    (),
                    (),
                    None,
                    tuple(sorted(values, key=str.casefold)),
                )
            )
            continue
        size = option_count(question)
        names = tuple(value_label(question, i) for i in range(1, size + 1))
        counts = [0] * size
        for value in values:
            for part in value.split(","):
                if part.isdigit() and 1 <= int(part) <= size:
                    counts[int(part) - 1] += 1
        average = None
        if question.kind == QuestionKind.SCALE and values:
            average = sum(int(v) for v in values) / len(values)
        found.append(
            QuestionResult(
                question.position,
                question.text,
                question.kind,
                len(values),
                names,
                tuple(counts),
                average,
                (),
            )
        )
    recipients, started, finished = participation(db, questionnaire.id)
    return QuestionnaireResults(
        questionnaire.id,
        questionnaire.title,
        questionnaire.anonymous,
        recipients,
        started,
        finished,
        tuple(found),
    )


def _bar(count: int, total: int) -> str:
    filled = round(BAR * count / total) if total else 0
    return "█" * filled + "░" * (BAR - filled)


def _percent(t: Translator, count: int, total: int) -> str:
    return t.gettext("{value} %", value=round(100 * count / total) if total else 0)


def average_text(t: Translator, value: float) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if t.locale == "fr" else text


def results_text(t: Translator, questionnaire: Questionnaire, results: QuestionnaireResults) -> str:
    lines = [
        heading(t, questionnaire),
        t.gettext(
            "{finished} finished, {started} started, out of {recipients} asked.",
            finished=results.finished,
            started=results.started,
            recipients=results.recipients,
        ),
    ]
    for result in results.questions:
        lines.extend(
            [
                "",
                t.gettext(
                    "**{number}. {text}** ({answers})",
                    number=result.position + 1,
                    text=result.text,
                    answers=t.ngettext("{n} answer", "{n} answers", result.answers),
                ),
            ]
        )
        if result.kind == QuestionKind.TEXT:
            shown = result.verbatims[:VERBATIMS_SHOWN]
            lines.extend(f"> {text}" for text in shown)
            if len(result.verbatims) > len(shown):
                lines.append(
                    t.gettext("… the others in the export: /survey export {n}.", n=questionnaire.id)
                )
            continue
        if result.average is not None:
            lines.append(
                t.gettext(
                    "Average: {value} out of {size}",
                    value=average_text(t, result.average),
                    size=len(result.labels),
                )
            )
        for i, (name, count) in enumerate(zip(result.labels, result.counts, strict=True), 1):
            lines.append(
                f"{i}. {name} — {_bar(count, result.answers)} {count} "
                f"({_percent(t, count, result.answers)})"
            )
    return "\n".join(lines)


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas in text typed by people."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(db: Session, questionnaire: Questionnaire, t: Translator) -> Attachment:
    """One row per answer (UTF-8 with a BOM). Anonymous questionnaires have no participant
    column, and their rows are in question order, then sorted by answer."""
    named = not questionnaire.anonymous
    names: dict[int, str] = {}
    if named:
        names = {int(k): str(v) for k, v in db.execute(select(Member.id, Member.display_name))}
    answers = answers_by_question(db, questionnaire.id)
    head = [t.gettext("Question"), t.gettext("Text"), t.gettext("Kind"), t.gettext("Response")]
    if named:
        head.append(t.gettext("Participant"))
    rows: list[list[str]] = []
    for question in questions(db, questionnaire.id):
        cells: list[list[str]] = []
        for value, member_id in answers.get(question.id, []):
            if question.kind == QuestionKind.TEXT:
                shown = value
            else:
                shown = " ; ".join(
                    value_label(question, int(part)) for part in value.split(",") if part.isdigit()
                )
            row = [str(question.position + 1), question.text, kind_label(t, question.kind), shown]
            if named:
                row.append(names.get(member_id or 0, ""))
            cells.append(row)
        rows.extend(sorted(cells, key=lambda r: [c.casefold() for c in r[3:]]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(head)
    writer.writerows([_cell(c) for c in row] for row in rows)
    filename = t.gettext("questionnaire-{number}.csv", number=questionnaire.id)
    return Attachment(filename, "text/csv", buffer.getvalue().encode("utf-8-sig"))


__all__ = [
    "QuestionResult",
    "QuestionnaireResults",
    "export_csv",
    "questionnaire_results",
    "results_text",
]
