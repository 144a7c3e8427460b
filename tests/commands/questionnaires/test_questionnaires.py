"""Questionnaires through the chat harness: three kinds of questions answered privately by
several members (buttons, text commands, private messages), stop and resume, reminders, results,
CSV export; the anonymous run checked in the database; bad input refused, nothing counted twice."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select

from bot.core import Reply
from bot.storage.questionnaires import (
    QuestionnaireAnswer,
    QuestionnaireRecipient,
)
from tests.support.chat import Chat, text_of

MEMBERS = ("alice", "bob", "chloe")


async def _draft(chat: Chat, *, anonymous: bool) -> None:
    flag = " --anonyme" if anonymous else ""
    await chat.command("camille", f'/questionnaire creer "Bilan 2026"{flag} --intro "Merci !"')
    await chat.command("camille", '/questionnaire question 1 echelle "Utilité des sessions ?"')
    await chat.command(
        "camille", '/questionnaire question 1 choix "Format préféré ?" "Webinaire" "Visite"'
    )
    await chat.command(
        "camille",
        '/questionnaire question 1 choix-multiple "Thèmes ?" "Eau" "Énergie" "Mobilités"',
    )
    await chat.command("camille", '/questionnaire question 1 texte "Vos propositions ?"')


def _last(replies: list[Reply]) -> Reply:
    assert replies, "no reply"
    return replies[-1]


async def _answer_all(chat: Chat) -> None:
    """alice by buttons; bob by text commands; chloe stops after one answer, then resumes."""
    dm = "@alice"
    await chat.click("alice", "survey:1:q:0:v:4", channel=dm)
    await chat.click("alice", "survey:1:q:1:v:2", channel=dm)
    toggled = _last(await chat.click("alice", "survey:1:q:2:m:1:1", channel=dm))
    assert toggled.choices[0].label == "✅ Eau"  # the selection lives in the buttons
    await chat.click("alice", "survey:1:q:2:m:5:3", channel=dm)
    await chat.click("alice", "survey:1:q:2:m:5:ok", channel=dm)
    await chat.say("alice", "Plus de visites de terrain", channel=dm)

    await chat.command("bob", "/questionnaire repondre 1 5", channel="@bob")
    await chat.command("bob", "/survey answer 1 Webinaire", channel="@bob")
    await chat.command("bob", "/survey answer 1 1", channel="@bob")
    await chat.command("bob", "/questionnaire repondre 1 Des ateliers le soir", channel="@bob")

    await chat.click("chloe", "survey:1:q:0:v:2", channel="@chloe")
    later = text_of(await chat.click("chloe", "survey:1:stop", channel="@chloe"))
    assert "/questionnaire repondre 1" in later


@pytest.mark.asyncio
async def test_anonymous_questionnaire_answered_reminded_results_export(chat: Chat) -> None:
    for user in MEMBERS:
        await chat.say(user, "bonjour")
    await _draft(chat, anonymous=True)
    preview = text_of(await chat.command("camille", "/questionnaire apercu 1"))
    assert "**1.** Utilité des sessions ? (échelle)" in preview
    assert "(1) Eau · (2) Énergie · (3) Mobilités" in preview and "Anonyme" in preview

    launched = text_of(await chat.command("camille", "/questionnaire lancer 1 --tous --fin 2sem"))
    assert "envoyé à 4 membres" in launched  # camille, alice, bob, chloe
    (invite,) = chat.direct_messages("alice")
    assert "Merci !" in invite.text and "Question 1 sur 4" in invite.text
    assert [c.action for c in invite.choices][:5] == [f"survey:1:q:0:v:{i}" for i in range(1, 6)]

    await _answer_all(chat)

    # A replayed button is not counted twice.
    again = text_of(await chat.click("alice", "survey:1:q:0:v:1", channel="@alice"))
    assert "déjà répondu en entier" in again
    replay = text_of(await chat.click("chloe", "survey:1:q:0:v:5", channel="@chloe"))
    assert "déjà répondu" in replay

    # Reminders go to those who have not finished: chloe (and camille), at most twice.
    reminded = text_of(await chat.command("camille", "/questionnaire relancer 1"))
    assert "Relance 1 sur 2" in reminded and "2 membres" in reminded
    (_, reminder) = chat.direct_messages("chloe")
    assert "rappel" in reminder.text and "Question 2 sur 4" in reminder.text  # where she stopped
    assert len(chat.direct_messages("alice")) == 1  # finished: not reminded
    await chat.command("camille", "/questionnaire relancer 1")
    refused = text_of(await chat.command("camille", "/questionnaire relancer 1"))
    assert "déjà eu ses 2 relances" in refused

    # chloe resumes where she stopped.
    resumed = text_of(await chat.command("chloe", "/questionnaire repondre 1", channel="@chloe"))
    assert "Question 2 sur 4" in resumed
    await chat.click("chloe", "survey:1:q:1:v:2", channel="@chloe")
    await chat.click("chloe", "survey:1:q:2:skip", channel="@chloe")
    done = text_of(await chat.click("chloe", "survey:1:q:3:skip", channel="@chloe"))
    assert "sont enregistrées" in done

    results = text_of(await chat.command("camille", "/questionnaire resultats 1"))
    assert "3 ont terminé, 3 ont commencé, sur 4 sollicité·es." in results
    assert "Moyenne : 3,7 sur 5" in results  # (4 + 5 + 2) / 3
    assert "2. Visite — ███████░░░ 2 (67 %)" in results
    assert "1. Eau — ██████████ 2 (100 %)" in results  # two answered the multiple choice
    assert "> Des ateliers le soir" in results and "> Plus de visites de terrain" in results

    (export,) = (await chat.command("camille", "/questionnaire export 1"))[0].attachments
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))
    assert rows[0] == ["Question", "Texte", "Type", "Réponse"]  # no participant column
    assert ["3", "Thèmes ?", "choix multiple", "Eau ; Mobilités"] in rows
    assert sum(1 for row in rows if row[0] == "1") == 3

    # The database: no row links a member to an answer.
    schema = inspect(chat.app.engine)
    columns = {c["name"] for c in schema.get_columns("questionnaire_answers")}
    assert columns == {"key", "questionnaire_id", "question_id", "member_id", "value"}
    recipient_columns = {c["name"] for c in schema.get_columns("questionnaire_recipients")}
    assert "value" not in recipient_columns and "question_id" not in recipient_columns
    with chat.db() as db:
        answers = db.scalars(select(QuestionnaireAnswer)).all()
        assert len(answers) == 10 and all(a.member_id is None for a in answers)
        keys = [a.key for a in answers]
        assert len(set(keys)) == 10 and all(len(k) == 32 for k in keys)
        assert (
            db.scalar(
                select(QuestionnaireRecipient).where(
                    QuestionnaireRecipient.finished_at.is_not(None)
                )
            )
            is not None
        )


@pytest.mark.asyncio
async def test_named_questionnaire_to_session_attendees_deadline_and_refusals(chat: Chat) -> None:
    await chat.command(
        "camille",
        '/session creer "Atelier eau" --quand "jeudi 3 décembre 14h" --duree 2h '
        "--type rencontre --lien https://visio.example.org/e --places 5",
    )
    for user in ("alice", "bob"):
        await chat.click(user, "session:1:register")
    await chat.say("erin", "bonjour")

    # Bad input: no questions, no audience, nobody present yet, unknown kind, bad options.
    await chat.command("camille", '/questionnaire creer "Retour atelier"')
    empty = text_of(await chat.command("camille", "/questionnaire lancer 1 --session 1"))
    assert "n'a encore aucune question" in empty
    assert "n'est pas un type de question" in text_of(
        await chat.command("camille", '/questionnaire question 1 note-libre "?"')
    )
    assert "2 à 10 options" in text_of(
        await chat.command("camille", '/questionnaire question 1 choix "Un seul ?" "A"')
    )
    await chat.command(
        "camille", '/questionnaire question 1 echelle "Clarté ?" "Faible" "Bonne" "Excellente"'
    )
    await chat.command("camille", '/questionnaire question 1 texte "Un mot ?"')
    assert "Dites à qui" in text_of(await chat.command("camille", "/questionnaire lancer 1"))
    nobody = text_of(await chat.command("camille", "/questionnaire lancer 1 --session 1"))
    assert "personne n'est enregistré·e comme présent·e" in nobody

    await chat.move_to(datetime(2026, 12, 3, 13, 10, tzinfo=UTC))
    for user in ("alice", "bob"):
        await chat.click(user, "session:1:checkin")
    launched = text_of(
        await chat.command("camille", '/questionnaire lancer 1 --session 1 --fin "2j"')
    )
    assert "envoyé à 2 membres" in launched
    twice = text_of(await chat.command("camille", "/questionnaire lancer 1 --session 1"))
    assert "déjà été lancé" in twice
    frozen = text_of(await chat.command("camille", '/questionnaire question 1 texte "Encore ?"'))
    assert "déjà lancé" in frozen

    # A labelled scale: its buttons are its labels; out of range refused in words.
    invite = chat.direct_messages("alice")[-1]
    assert [c.label for c in invite.choices][:3] == ["Faible", "Bonne", "Excellente"]
    out = text_of(await chat.command("alice", "/questionnaire repondre 1 7", channel="@alice"))
    assert "un nombre de 1 à 3" in out and "« Excellente »" in out
    await chat.command("alice", "/questionnaire repondre 1 excellente", channel="@alice")
    await chat.say("alice", "Très clair, merci", channel="@alice")

    # Not sent to erin.
    stranger = text_of(await chat.command("erin", "/questionnaire repondre 1 2", channel="@erin"))
    assert "ne vous a pas été envoyé" in stranger
    # After the deadline: refused.
    await chat.advance(timedelta(days=3))
    late = text_of(await chat.click("bob", "survey:1:q:0:v:2", channel="@bob"))
    assert "date limite" in late

    (export,) = (await chat.command("camille", "/questionnaire export 1"))[0].attachments
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))
    assert rows[0][-1] == "Participant·e"
    assert ["1", "Clarté ?", "échelle", "Excellente", "Alice"] in rows
    assert ["2", "Un mot ?", "texte libre", "Très clair, merci", "Alice"] in rows
    closed = text_of(await chat.command("camille", "/questionnaire clore 1"))
    assert "1 ont terminé" in closed or "1 a terminé" in closed
    assert "déjà clos" in text_of(await chat.command("camille", "/questionnaire clore 1"))


@pytest.mark.asyncio
async def test_channel_questionnaire_answered_from_its_announcement(chat: Chat) -> None:
    await chat.command("camille", '/questionnaire creer "Rapide"')
    await chat.command("camille", '/questionnaire question 1 choix "Oui ?" "Oui" "Non"')
    await chat.say("camille", "salut", channel="ateliers")
    await chat.command("camille", "/questionnaire lancer 1 --canal #ateliers")
    (post,) = chat.posts("ateliers")
    assert post.choices[0].action == "survey:1:start" and "Rapide" in post.text
    # From elsewhere, a member who was not counted is refused.
    refused = text_of(await chat.click("alice", "survey:1:start", channel="general"))
    assert "ne vous a pas été envoyé" in refused
    first = _last(await chat.click("alice", "survey:1:start", channel="ateliers"))
    assert first.ephemeral and "Oui ?" in first.text
    done = text_of(await chat.click("alice", "survey:1:q:0:v:1", channel="ateliers"))
    assert "sont enregistrées" in done
    results = text_of(await chat.command("camille", "/questionnaire resultats 1"))
    assert "1 ont terminé" in results or "1 a terminé" in results
