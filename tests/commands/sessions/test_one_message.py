"""One message per fact (issue 15): one private message per registration, and actions repeated
by a second click or a retry change nothing and post nothing."""

from __future__ import annotations

import pytest

from commands.polls import get_poll, poll_results
from tests.support.chat import Chat, text_of

CREATE = '/session creer "Atelier sobriété" --quand "jeudi 3 décembre 14h" --places 2'


@pytest.mark.asyncio
async def test_a_registration_sends_one_direct_message_and_a_public_acknowledgement(
    chat: Chat,
) -> None:
    await chat.command("camille", CREATE)
    replies = await chat.command("alice", "/inscription 1")
    (ack,) = replies
    assert not ack.ephemeral
    assert ack.text == (
        "Inscription enregistrée pour **Atelier sobriété** (n° 1) : la confirmation et le "
        "fichier d'agenda ont été envoyés en message privé."
    )
    (dm,) = chat.direct_messages("alice")
    assert dm.attachments and dm.attachments[0].filename.endswith(".ics")
    # The button: the confirmation is the only message (the announcement's seats are edited).
    assert await chat.click("bob", "session:1:register") == []
    assert len(chat.direct_messages("bob")) == 1
    # Typed in the direct conversation: the confirmation is the only message there.
    await chat.command("camille", CREATE.replace("sobriété", "compost"))
    assert await chat.command("carol", "/inscription 2", channel="@carol") == []
    assert len(chat.direct_messages("carol")) == 1


@pytest.mark.asyncio
async def test_an_english_member_gets_the_public_acknowledgement_in_the_networks_language(
    chat: Chat,
) -> None:
    await chat.command("alice", "/profile language en")
    await chat.command("camille", CREATE)
    (ack,) = await chat.command("alice", "/register 1")
    assert ack.text.startswith("Inscription enregistrée pour")
    (dm,) = chat.direct_messages("alice")
    assert "is confirmed" in dm.text


@pytest.mark.asyncio
async def test_registering_again_sends_nothing_more(chat: Chat) -> None:
    await chat.command("camille", CREATE)
    await chat.click("alice", "session:1:register")
    posts_before = len(chat.posts())
    again = await chat.click("alice", "session:1:register")
    assert "déjà inscrit" in text_of(again)
    assert all(reply.ephemeral for reply in again)
    assert len(chat.direct_messages("alice")) == 1
    assert len(chat.posts()) == posts_before


@pytest.mark.asyncio
async def test_closing_a_poll_twice_says_already_closed_and_posts_nothing(chat: Chat) -> None:
    await chat.command("camille", '/sondage "Quel thème ?" "Eau" "Énergie"')
    await chat.click("alice", "poll:1:vote:1")
    await chat.command("camille", "/sondage clore 1")
    posted = len(chat.posts())
    edited = len(chat.edits())
    again = await chat.command("dominique", "/sondage clore 1")
    assert "déjà clos" in text_of(again)
    assert all(reply.ephemeral for reply in again)
    assert len(chat.posts()) == posted
    assert len(chat.edits()) == edited
    results = [r for r in chat.posts() if "Résultats du sondage n° 1" in r.text]
    assert len(results) == 1


@pytest.mark.asyncio
async def test_cancelling_twice_and_unregistering_twice_change_nothing(chat: Chat) -> None:
    await chat.command("camille", CREATE)
    await chat.click("alice", "session:1:register")
    await chat.click("alice", "session:1:unregister")
    again = await chat.click("alice", "session:1:unregister")
    assert all(reply.ephemeral for reply in again)
    await chat.click("bob", "session:1:register")
    await chat.command("camille", "/session annuler 1")
    posted = len(chat.posts())
    dms = len(chat.direct_messages("bob"))
    twice = await chat.command("camille", "/session annuler 1")
    assert "annulée" in text_of(twice)
    assert len(chat.posts()) == posted
    assert len(chat.direct_messages("bob")) == dms


@pytest.mark.asyncio
async def test_a_vote_repeated_changes_nothing(chat: Chat) -> None:
    await chat.command("camille", '/sondage "Quel thème ?" "Eau" "Énergie"')
    await chat.click("alice", "poll:1:vote:1")
    await chat.click("alice", "poll:1:vote:1")
    with chat.db() as db:
        results = poll_results(db, get_poll(db, 1))
    assert results.choices is not None
    assert [c.votes for c in results.choices.counts] == [1, 0]
