"""Live announcements and visible quotas: the announcement of a session is edited as seats,
the waiting list, quotas and its status change; quotas are shown and changed; bad input
changes nothing. Through the chat harness (the real app), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.storage.sessions import SessionQuota, SessionRow
from commands.sessions.live import EDIT_THROTTLE
from tests.support.chat import Chat, text_of

CREATE = (
    '/session creer "Plénière de printemps" --quand "2026-12-10 14:00" --duree 2h '
    '--type pleniere --lieu "Salle des fêtes" --places 3 --quotas elu=1'
)


async def _settle(chat: Chat) -> None:
    """Let the throttled edit fall due."""
    await chat.advance(EDIT_THROTTLE)


def _announcement(chat: Chat) -> str:
    """The announcement as members see it now: its last edit, else the post."""
    edits = [e.text for e in chat.edits() if "Plénière de printemps" in e.text]
    if edits:
        return edits[-1]
    (post,) = [p for p in chat.posts() if p.text.startswith("📅")]
    return post.text


def _session(chat: Chat) -> tuple[SessionRow, dict[str, tuple[int, int]]]:
    with chat.db() as db:
        session = db.get(SessionRow, 1)
        assert session is not None
        quotas = {
            q.category: (q.capacity, q.confirmed)
            for q in db.query(SessionQuota).filter_by(session_id=1)
        }
        return session, quotas


@pytest.mark.asyncio
async def test_the_announcement_follows_seats_quotas_and_the_waiting_list(chat: Chat) -> None:
    await chat.command("camille", CREATE)
    (post,) = [p for p in chat.posts() if p.text.startswith("📅")]
    assert "👥 3 places restantes sur 3" in post.text
    assert "Quotas : élu·e : 1 place restante sur 1." in post.text
    assert [c.action for c in post.choices] == ["session:1:register", "session:1:unregister"]

    for user, category in (("alice", "elu"), ("bob", "elu")):
        await chat.command(user, f"/categorie {category}")
    await chat.command("alice", "/inscription 1")
    assert "👥 2 places restantes sur 3" in _announcement(chat)
    assert "élu·e : complet (1)" in _announcement(chat)
    await chat.command("bob", "/inscription 1")  # his category is full: he waits
    await chat.command("chloe", "/inscription 1")
    await _settle(chat)
    text = _announcement(chat)
    assert "👥 1 place restante sur 3" in text
    assert "⏳ 1 personne attend une place d'une catégorie complète." in text
    await chat.command("david", "/inscription 1")
    await chat.command("erin", "/inscription 1")
    await _settle(chat)
    assert "👥 complet — liste d'attente : 2" in _announcement(chat)

    # Shown wherever seats are: /session N and /participants.
    assert "Quotas : élu·e : complet (1)." in text_of(await chat.command("erin", "/session 1"))
    listing = text_of(await chat.command("camille", "/participants 1"))
    assert "Quotas : élu·e : complet (1)." in listing

    # More seats: erin (no category) gets one; bob's category still blocks him, and it says so.
    answer = text_of(await chat.command("camille", "/session modifier 1 --places 5"))
    assert "1 personne passe de la liste d'attente à une place" in answer
    assert "1 place reste libre alors que des personnes attendent" in answer
    assert "(élu·e)" in answer
    assert len([m for m in chat.direct_messages("erin") if "🎉" in m.text]) == 1
    # A quota raised: bob is promoted in order.
    answer = text_of(await chat.command("camille", "/session modifier 1 --quotas elu=2"))
    assert "1 personne passe de la liste d'attente à une place" in answer
    assert "reste libre" not in answer
    session, quotas = _session(chat)
    assert (session.confirmed, session.capacity, quotas) == (5, 5, {"elu": (2, 2)})
    await _settle(chat)
    assert "👥 complet — liste d'attente : 0" in _announcement(chat)
    # Quotas removed.
    await chat.command("camille", "/session modifier 1 --quotas aucun")
    assert _session(chat)[1] == {}
    await _settle(chat)
    assert "Quotas" not in _announcement(chat)


@pytest.mark.asyncio
async def test_bad_quotas_and_capacities_change_nothing(chat: Chat) -> None:
    await chat.command("camille", CREATE)
    for user in ("alice", "bob"):
        await chat.command(user, "/inscription 1")
    before = _session(chat)
    cases = {
        "/session modifier 1 --quotas elu=2,agent=2": "totaliseraient 4 places, plus que ses 3",
        "/session modifier 1 --quotas elu=-1": "ne peut pas être négatif",
        "/session modifier 1 --quotas maire=2": "Je ne peux pas lire les quotas « maire=2 »",
        "/session modifier 1 --places 1": "2 membres ont déjà une place",
        "/session modifier 1 --places 2 --quotas elu=1,agent=2": "plus que ses 2 places",
    }
    for line, expected in cases.items():
        answer = text_of(await chat.command("camille", line))
        assert expected in answer, (line, answer)
        after = _session(chat)
        assert (after[0].capacity, after[0].confirmed, after[1]) == (
            before[0].capacity,
            before[0].confirmed,
            before[1],
        )
    # At creation too.
    refused = text_of(
        await chat.command(
            "camille", '/session creer "Trop" --quand "2026-12-11 10:00" --places 2 --quotas elu=3'
        )
    )
    assert "Les quotas totalisent 3 places, plus que les 2 places" in refused
    # A quota below the seats its category already holds.
    await chat.command("chloe", "/categorie agent")
    await chat.command("camille", "/session modifier 1 --quotas agent=2")
    await chat.command("chloe", "/inscription 1")
    answer = text_of(await chat.command("camille", "/session modifier 1 --quotas agent=0"))
    assert "1 membres de la catégorie « agent·e public·que » ont déjà une place" in answer
    assert _session(chat)[1] == {"agent": (2, 1)}
    # A cancelled session cannot be changed.
    await chat.command("camille", "/session annuler 1")
    answer = text_of(await chat.command("camille", "/session modifier 1 --places 10"))
    assert "annulée" in answer and "rien n'a été modifié" in answer
    assert _session(chat)[0].capacity == 3


@pytest.mark.asyncio
async def test_cancelled_closed_and_over_announcements_lose_their_buttons(chat: Chat) -> None:
    await chat.command("camille", CREATE)
    await chat.command(
        "camille",
        '/session creer "Atelier" --quand "2026-12-11 10:00" --places 5 '
        '--inscriptions-jusqu-au "2026-12-01 12:00"',
    )
    await chat.command("alice", "/inscription 1")
    await chat.command("bob", "/inscription 2")
    await _settle(chat)
    await chat.command("camille", "/session annuler 1")
    await _settle(chat)
    cancelled = [e for e in chat.edits() if "Plénière" in e.text][-1]
    assert "❌ Annulée." in cancelled.text and cancelled.choices == ()
    # The registration deadline passes: the announcement says so; only unregistering is left.
    await chat.move_to(datetime(2026, 12, 1, 11, 1, tzinfo=UTC))
    closed = [e for e in chat.edits() if "Atelier" in e.text][-1]
    assert "🔒 Inscriptions closes." in closed.text
    assert [c.action for c in closed.choices] == ["session:2:unregister"]
    # It starts, the check-in is answered, it ends.
    start = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)
    await chat.move_to(start + timedelta(minutes=1))
    started = [e for e in chat.edits() if "Atelier" in e.text][-1]
    assert "la session a commencé" in started.text and started.choices == ()
    await chat.click("bob", "session:2:checkin")
    await chat.move_to(start + timedelta(hours=1, minutes=1))
    over = [e for e in chat.edits() if "Atelier" in e.text][-1]
    assert "✅ Terminée — 1 présent·e." in over.text and over.choices == ()
    count = len(chat.edits())
    await chat.advance(timedelta(hours=3))
    assert len(chat.edits()) == count  # nothing changed: no edit


@pytest.mark.asyncio
async def test_category_alone_shows_the_current_one(chat: Chat) -> None:
    assert "Vous n'avez pas de catégorie" in text_of(await chat.command("alice", "/categorie"))
    await chat.command("alice", "/categorie agent")
    assert "Votre catégorie est « agent·e public·que »" in text_of(
        await chat.command("alice", "/categorie")
    )
    chat.locales["bob"] = "en"
    await chat.command("bob", "/category elu")
    assert "Your category is “elected official”" in text_of(await chat.command("bob", "/category"))
