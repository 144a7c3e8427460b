"""What the questionnaires give the annual report: the members' evaluation (the questionnaires
launched in the year, not the sessions' comment forms), with charts and verbatims (no names)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import Translator
from bot.storage.questionnaires import QuestionKind, Questionnaire
from commands.questionnaires.results import average_text, questionnaire_results
from digests.report import Bars, Figure, Quotes, ReportPart, Table, share


def report_questionnaires(
    db: Session, t: Translator, since: datetime, until: datetime
) -> ReportPart | None:
    found = list(
        db.scalars(
            select(Questionnaire)
            .where(
                Questionnaire.session_id.is_(None),
                Questionnaire.launched_at >= since,
                Questionnaire.launched_at < until,
            )
            .order_by(Questionnaire.launched_at, Questionnaire.id)
        )
    )
    if not found:
        return None
    figures = [Figure(t.gettext("Questionnaires"), len(found))]
    tables: list[Table] = []
    charts: list[Bars] = []
    quotes: list[Quotes] = []
    for questionnaire in found:
        results = questionnaire_results(db, questionnaire)
        prefix = t.gettext("{ref} {title}", ref=t.ref(questionnaire.id), title=questionnaire.title)
        figures.append(
            Figure(
                t.gettext("{title}: answered in full (%)", title=prefix),
                share(results.finished, results.recipients),
            )
        )
        rows = []
        for q in results.questions:
            number = q.position + 1
            if q.kind == QuestionKind.TEXT:
                if q.verbatims:
                    quotes.append(
                        Quotes(
                            t.gettext(
                                "{title} — {number}. {text}",
                                title=prefix,
                                number=number,
                                text=q.text,
                            ),
                            q.verbatims,
                        )
                    )
                rows.append((number, q.text, q.answers, "", ""))
                continue
            spread = " · ".join(
                f"{name}: {count}" for name, count in zip(q.labels, q.counts, strict=True)
            )
            rows.append(
                (
                    number,
                    q.text,
                    q.answers,
                    average_text(t, q.average) if q.average is not None else "",
                    spread,
                )
            )
            charts.append(
                Bars(
                    f"questionnaire-{questionnaire.id}-{number}",
                    t.gettext("{number}. {text}", number=number, text=q.text),
                    q.labels,
                    tuple(float(c) for c in q.counts),
                )
            )
        tables.append(
            Table(
                t.gettext(
                    "{title} ({finished} answered in full, {started} started, {recipients} asked{anonymous})",
                    title=prefix,
                    finished=results.finished,
                    started=results.started,
                    recipients=results.recipients,
                    anonymous=t.gettext(", anonymous") if results.anonymous else "",
                ),
                (
                    t.gettext("No."),
                    t.gettext("Question"),
                    t.gettext("Answers"),
                    t.gettext("Mean"),
                    t.gettext("Distribution"),
                ),
                tuple(rows),
            )
        )
    return ReportPart(
        key="questionnaires",
        title=t.gettext("The members' evaluation"),
        order=50,
        figures=tuple(figures),
        tables=tuple(tables),
        charts=tuple(charts),
        quotes=tuple(quotes),
    )
