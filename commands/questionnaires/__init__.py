"""/questionnaire (/survey): the members' evaluation, answered privately one question at a time.

Coordinators ``creer`` a draft (``--anonyme``, ``--intro``, ``--relances K``), add questions
(``question N echelle|choix|choix-multiple|texte "Texte" ["A" "B" ...]``), ``apercu`` it and
``lancer`` it to a channel (``--canal #x``: announced there with an "Answer" button), to a
session's attendees (``--session N``) or to everyone (``--tous``), each asked by direct message
through the outbox (``survey:<id>:invite:<member>``), with ``--fin`` as a deadline. Members
answer with the buttons (a multiple choice keeps its selection in the buttons until "Confirm"),
by ``/questionnaire repondre N ...``, or for a free text by a private message; "Later" stops,
``repondre N`` resumes. ``relancer`` reminds those who have not finished (at most
``max_reminders``, 2 by default), ``resultats`` shows counts, averages, distributions and
verbatims, ``clore`` closes, ``export`` gives a CSV. Anonymity: see
:mod:`bot.storage.questionnaires`.

For other families: :func:`comment_prompt` (a session's feedback comment, through the same
machinery) and :func:`questionnaire_results` (plain values).
"""

from __future__ import annotations

from bot.family import Family, Host, ReportSection
from commands.questionnaires import coordinator_handlers, data, member_handlers
from commands.questionnaires.comments import comment_prompt, session_comments
from commands.questionnaires.reminders import setup_reminders
from commands.questionnaires.report import report_questionnaires
from commands.questionnaires.results import (
    QuestionnaireResults,
    QuestionResult,
    questionnaire_results,
)

__all__ = [
    "FAMILY",
    "QuestionResult",
    "QuestionnaireResults",
    "comment_prompt",
    "questionnaire_results",
    "session_comments",
]


def setup(host: Host) -> None:
    host.listen("message", member_handlers.private_text)
    setup_reminders(host)


FAMILY = Family(
    name="questionnaires",
    handlers=(coordinator_handlers, member_handlers),
    setup=setup,
    outbox_topics=("survey",),
    report=(ReportSection("questionnaires", report_questionnaires),),
    member_data=data.MEMBER_DATA,
)
