"""What people type through a platform's API is stored whatever it holds (NUL, lone surrogates).

The console cleans its own input; Discord and Rocket.Chat hand over text as their APIs give it,
and PostgreSQL refuses a NUL in a text column: before the application cleaned every event, the
member's name or the poll's question made the whole command fail.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.core import Actor, CommandEvent, MessageEvent, Place, Role, storable, storable_text
from bot.storage.members import Member
from tests.support.chat import Chat, text_of


def test_storable_text_replaces_only_what_cannot_be_stored() -> None:
    assert storable_text("a\x00b\ud800c") == "a\ufffdb\ufffdc"
    assert storable_text("Élu·e « eau » 🌱") == "Élu·e « eau » 🌱"


def test_an_event_with_nothing_to_clean_is_the_same_object() -> None:
    actor = Actor("discord", "1", "Nadia")
    event = CommandEvent(actor, Place("discord", "c", "general"), at=_now(), text="aide")
    assert storable(event) is event


def test_every_text_of_an_event_is_cleaned_options_and_actor_included() -> None:
    actor = Actor("discord", "1", "Na\x00dia")
    event = CommandEvent(
        actor,
        Place("discord", "c", "gén\x00éral"),
        at=_now(),
        name="sondage",
        options={"question": "Quel\x00 thème ?", "count": 3},
    )
    cleaned = storable(event)
    assert cleaned.actor.display_name == "Na\ufffddia"
    assert cleaned.place.name == "gén\ufffdéral"
    assert cleaned.options == {"question": "Quel\ufffd thème ?", "count": 3}


@pytest.mark.asyncio
async def test_a_nul_from_a_platform_api_is_stored_not_fatal(chat: Chat) -> None:
    actor = Actor("console", "nadia", "Na\x00dia", roles=frozenset({Role.MEMBER, Role.COORDINATOR}))
    where = Place("console", "general", "general")
    outcome = await chat.send(
        CommandEvent(actor, where, at=chat.clock.now(), text='sondage "Quel\x00 thème ?" Eau Feu')
    )
    assert "n° 1" in text_of(outcome)
    assert any("Quel\ufffd thème ?" in post.text for post in chat.posts("general"))
    await chat.send(MessageEvent(actor, where, "bonjour\x00", chat._ref(where), chat.clock.now()))
    with chat.db() as db:
        names = db.scalars(select(Member.display_name).where(Member.user_id == "nadia")).all()
    assert names == ["Na\ufffddia"]


def _now() -> datetime:
    return datetime(2027, 3, 18, 9, 0, tzinfo=UTC)
