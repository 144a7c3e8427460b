"""The feedback after a session gains an optional free-text comment, through the questionnaires'
machinery; and the console's ``:dm`` line answers privately."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.storage.questionnaires import Questionnaire, QuestionnaireAnswer
from commands.questionnaires import session_comments
from tests.conftest import Database
from tests.support.chat import Chat, text_of
from tests.support.console import console_settings, run_script

CREATE = (
    '/session creer "Atelier eau" --quand "jeudi 3 décembre 14h" --duree 2h --type rencontre '
    "--lien https://visio.example.org/e --places 5"
)


@pytest.mark.asyncio
async def test_feedback_then_an_optional_comment(chat: Chat) -> None:
    await chat.command("camille", CREATE)
    for user in ("alice", "bob", "david"):
        await chat.click(user, "session:1:register")
    await chat.move_to(datetime(2026, 12, 3, 13, 10, tzinfo=UTC))
    for user in ("alice", "bob", "david"):
        await chat.click(user, "session:1:checkin")
    await chat.move_to(datetime(2026, 12, 3, 16, 0, tzinfo=UTC))

    thanks, prompt = await chat.click("alice", "session:1:feedback:useful", channel="@alice")
    assert "« Utile »" in thanks.text
    assert "Un commentaire sur cette session ? (facultatif)" in prompt.text
    assert "message privé" in prompt.text
    # "Répondre" asks for the text in a form where the platform has one (a Discord modal).
    assert [c.label for c in prompt.choices] == ["Répondre", "Passer", "Plus tard"]
    assert [c.asks_text is not None for c in prompt.choices] == [True, False, False]
    recorded = text_of(await chat.say_private("alice", "Très concret, merci"))
    assert "sont enregistrées" in recorded
    # Changing one's feedback does not ask again; a second comment is not taken.
    (again,) = await chat.click("alice", "session:1:feedback:average", channel="@alice")
    assert "« Moyen »" in again.text
    assert await chat.say_private("alice", "Un autre mot") == []

    # bob skips the comment.
    _, prompt = await chat.click("bob", "session:1:feedback:poor", channel="@bob")
    skip = next(c.action for c in prompt.choices if c.label == "Passer")
    assert "sont enregistrées" in text_of(await chat.click("bob", skip, channel="@bob"))

    with chat.db() as db:
        (questionnaire,) = db.scalars(select(Questionnaire)).all()
        assert questionnaire.session_id == 1
        (answer,) = db.scalars(select(QuestionnaireAnswer)).all()
        assert answer.value == "Très concret, merci"
        assert session_comments(db, [1]) == {1: ["Très concret, merci"]}
    # A plain private message with nothing pending gets no answer.
    assert await chat.say_private("erin", "bonjour") == []
    # Comments are taken for two weeks: later, a private message is not mistaken for one.
    _, prompt = await chat.click("david", "session:1:feedback:useful", channel="@david")
    await chat.advance(timedelta(days=15))  # david never answered the comment question
    assert await chat.say_private("david", "Bonjour, une question") == []
    with chat.db() as db:
        assert len(db.scalars(select(QuestionnaireAnswer)).all()) == 1


@pytest.mark.asyncio
async def test_console_dm_line_answers_a_free_text_question(
    database: Database, tmp_path: Path
) -> None:
    settings = console_settings(database.url, tmp_path)
    transcript = await run_script(
        [
            "@alice: bonjour",
            '/questionnaire creer "Vos idées"',
            '/questionnaire question 1 texte "Une proposition ?"',
            "/questionnaire lancer 1 --tous",
            ":as alice",
            ":dm Des visites de fermes",
            ":as camille",
            "/questionnaire resultats 1",
            ":dm",
            ":dance",
        ],
        settings=settings,
        out_dir=tmp_path / "out",
    )
    assert "@alice (privé) alice: Des visites de fermes" in transcript
    assert (
        "Merci ! Vos réponses au questionnaire n° 1 « Vos idées » sont enregistrées." in transcript
    )
    assert "> Des visites de fermes" in transcript
    assert ":dm TEXTE" in transcript  # the known lines name it
    # No form on the console: the "Répondre" choice (a Discord modal) is left out.
    assert "  (1) Passer\n  (2) Plus tard" in transcript
    assert "Répondre" not in transcript
