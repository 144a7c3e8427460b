"""The past, listable: /sessions --passees [--annee], /sondages --clos [--annee], through the chat
harness, with numbers that /session N and /sondage resultats N then open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.chat import Chat, text_of

CREATE = (
    '/session creer "{title}" --quand "{when}" --duree 2h --type webinaire '
    "--lien https://visio.example.org/x --places 5"
)


async def _held_session(chat: Chat, title: str, when: str, number: int) -> None:
    await chat.command("camille", CREATE.format(title=title, when=when))
    await chat.click("alice", f"session:{number}:register")
    await chat.click("bob", f"session:{number}:register")


@pytest.mark.asyncio
async def test_past_sessions_listed_with_attendance_and_by_year(chat: Chat) -> None:
    await _held_session(chat, "Webinaire mobilités", "jeudi 3 décembre 14h", 1)
    await _held_session(chat, "Atelier sobriété", "vendredi 4 décembre 10h", 2)
    # Nothing is past yet.
    assert "Aucune session" in text_of(await chat.command("erin", "/sessions --passees"))
    await chat.move_to(datetime(2026, 12, 3, 13, 10, tzinfo=UTC))  # 14:10 in Paris
    await chat.click("alice", "session:1:checkin")
    await chat.move_to(datetime(2026, 12, 4, 9, 10, tzinfo=UTC))
    await chat.click("alice", "session:2:checkin")
    await chat.click("bob", "session:2:checkin")
    await chat.move_to(datetime(2026, 12, 5, 9, 0, tzinfo=UTC))

    listed = text_of(await chat.command("erin", "/sessions --passees"))
    assert "Dernières sessions tenues" in listed
    first, second = (line for line in listed.splitlines() if line.startswith("- "))
    # Newest first, with the number people open next.
    assert "Atelier sobriété** (n° 2)" in first and "2 présent·es sur 2 inscrit·es" in first
    assert "Webinaire mobilités** (n° 1)" in second and "1 présent·e sur 2 inscrit·es" in second
    assert "/session 2" in listed
    # The number opens.
    assert "Atelier sobriété" in text_of(await chat.command("erin", "/session 2"))

    by_year = text_of(await chat.command("erin", "/sessions --passees --annee 2026"))
    assert "Sessions de 2026** (2 sessions)" in by_year
    # --annee alone implies --passees; an empty year says so.
    assert "Aucune session ne s'est tenue en 2025." in text_of(
        await chat.command("erin", "/sessions --annee 2025")
    )
    # The upcoming list is unchanged.
    assert "Aucune session n'est prévue" in text_of(await chat.command("erin", "/sessions"))


@pytest.mark.asyncio
async def test_past_sessions_year_out_of_range_is_explained(chat: Chat) -> None:
    refused = text_of(await chat.command("erin", "/sessions --passees --annee 1789"))
    assert "entre 2000 et 2100" in refused and "/sessions --passees --annee 2025" in refused
    chat.locales["frank"] = "en"
    english = text_of(await chat.command("frank", "/sessions --past --year 3000"))
    assert "between 2000 and 2100" in english and "--past --year" in english


@pytest.mark.asyncio
async def test_closed_polls_listed_with_outcome_and_by_year(chat: Chat) -> None:
    await chat.command("camille", '/sondage "Quel thème ?" "Eau" "Énergie"')
    await chat.command("camille", '/sondage "Quel jour ?" "Lundi" "Mardi"')
    await chat.command("camille", '/sondage "Encore ouvert ?" "Oui" "Non"')
    await chat.click("alice", "poll:1:vote:2")
    await chat.click("bob", "poll:1:vote:2")
    await chat.click("alice", "poll:2:vote:1")
    assert "Aucun sondage" in text_of(await chat.command("erin", "/sondages --clos"))
    await chat.command("camille", "/sondage clore 1")
    await chat.advance(timedelta(days=1))
    await chat.command("camille", "/sondage clore 2")

    listed = text_of(await chat.command("erin", "/sondages --clos"))
    lines = [line for line in listed.splitlines() if line.startswith("- ")]
    assert len(lines) == 2  # the open poll is not listed
    assert lines[0].startswith("- **n° 2** — Quel jour ?") and "1 participant·e" in lines[0]
    assert lines[1].startswith("- **n° 1** — Quel thème ?") and "Énergie" in lines[1]
    assert "2 participant·es" in lines[1]
    assert "/sondage resultats 2" in listed
    assert "Énergie" in text_of(await chat.command("erin", "/sondage resultats 1"))
    # Another channel has its own; a private conversation sees every channel's.
    assert "Aucun sondage" in text_of(
        await chat.command("erin", "/sondages --clos", channel="autre")
    )
    private = text_of(await chat.command("erin", "/sondages --clos --annee 2026", channel="@erin"))
    assert "Sondages clos en 2026** (2 sondages)" in private
    assert "Aucun sondage n'a été clos ici en 2027." in text_of(
        await chat.command("erin", "/sondages --annee 2027")
    )
    # The open list is unchanged.
    assert "Encore ouvert ?" in text_of(await chat.command("erin", "/sondages"))


@pytest.mark.asyncio
async def test_closed_polls_year_out_of_range_is_explained(chat: Chat) -> None:
    refused = text_of(await chat.command("erin", "/sondages --clos --annee 12"))
    assert "entre 2000 et 2100" in refused and "/sondages --clos --annee 2025" in refused
