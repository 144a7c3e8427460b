"""``/session N`` after the session took place says so, not "7 places restantes" and
"Vous êtes inscrit·e" (issue 15: what members see stays true)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.chat import Chat, text_of

CREATE = (
    'session creer "Atelier eau" --quand "jeudi 3 décembre 14h" --duree 2h '
    '--type formation --lieu "Salle des fêtes" --places 8'
)
AFTER = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # 18:00 in Paris: the workshop is over


@pytest.mark.asyncio
async def test_a_past_session_shows_who_came_not_seats(chat: Chat) -> None:
    created = text_of(await chat.command("camille", CREATE))
    assert "n° 1" in created, created
    await chat.command("alice", "/inscription 1")
    await chat.command("bob", "/inscription 1")
    before = text_of(await chat.command("alice", "/session 1"))
    assert "places restantes" in before and "Vous êtes inscrit" in before, before

    await chat.move_to(datetime(2026, 12, 3, 13, 30, tzinfo=UTC))
    await chat.command("camille", "/presence 1 @alice")
    await chat.move_to(AFTER)
    alice = text_of(await chat.command("alice", "/session 1"))
    assert "places restantes" not in alice, alice
    assert "✅ Terminée — 1 présent·e." in alice, alice
    assert "Vous y avez participé." in alice, alice
    bob = text_of(await chat.command("bob", "/session 1"))
    assert "Vous étiez inscrit·e." in bob and "Vous êtes inscrit" not in bob, bob


@pytest.mark.asyncio
async def test_quotas_are_separated_the_french_way(chat: Chat) -> None:
    await chat.command("camille", CREATE + " --quotas elu=2,agent=3")
    french = text_of(await chat.command("alice", "/session 1"))
    assert "3 places restantes sur 3 ; élu·e : 2 places restantes sur 2." in french, french
    await chat.command("bob", "/profil langue en")
    english = text_of(await chat.command("bob", "/session 1"))
    assert "3 seats left out of 3; " in english and " ; " not in english, english
