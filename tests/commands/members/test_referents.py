"""/referent through the console chat: naming, the directory, and the daily news of a theme."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.storage.highlights import Consent, Highlight
from bot.storage.veille import ENTRY_SHARE, FeedEntry
from tests.commands.members.support import add_themes, fill_profile
from tests.support.chat import Chat, text_of

pytestmark = pytest.mark.asyncio


def _share(chat: Chat, title: str, theme: str, at: datetime) -> None:
    with chat.db() as db:
        db.add(
            FeedEntry(
                kind=ENTRY_SHARE,
                platform="console",
                channel_id="general",
                entry_key=title,
                content_hash=title,
                title=title,
                link=f"https://example.org/{len(title)}",
                theme=theme,
                created_at=at,
            )
        )
        db.commit()


def _highlight(chat: Chat, quote: str, themes: list[str], at: datetime) -> None:
    with chat.db() as db:
        db.add(
            Highlight(
                platform="console",
                quote=quote,
                author_name="Bob",
                source="typed",
                themes=themes,
                said_at=at,
                created_at=at,
                consent=Consent.YES,
                consent_at=at,
            )
        )
        db.commit()


async def test_naming_referents(chat: Chat) -> None:
    add_themes(chat, "mobilité", "alimentation")
    await chat.command("alice", "/profil")  # alice is known to the bot
    said = text_of(await chat.command("camille", '/referent ajouter "Mobilités" @alice'))
    assert "Alice est référent·e pour « mobilité »" in said
    assert "référent·e pour « mobilité »" in chat.direct_messages("alice")[-1].text
    said = text_of(await chat.command("camille", '/referent ajouter "mobilite" alice'))
    assert "déjà référent·e" in said
    said = text_of(await chat.command("camille", '/referent ajouter "mobilte" @alice'))
    assert "Vouliez-vous dire « mobilité »" in said
    said = text_of(await chat.command("camille", '/referent ajouter "mobilité" @personne'))
    assert "« personne »" in said
    said = text_of(await chat.command("bob", '/referent ajouter "mobilité" @bob'))
    assert "réservée à l'équipe de coordination" in said
    listed = text_of(await chat.command("bob", "/referent"))
    assert "- mobilité : Alice" in listed
    directory = text_of(await chat.command("bob", "/annuaire mobilité"))
    assert "Référent·e pour : mobilité" in directory
    said = text_of(await chat.command("camille", '/referent retirer "Mobilités" @alice'))
    assert "n'est plus référent·e" in said
    assert "Aucun" in text_of(await chat.command("bob", "/referent"))


async def test_referents_are_told_once_a_day(chat: Chat) -> None:
    add_themes(chat, "mobilité", "alimentation")
    await chat.command("alice", "/profil")
    await chat.command("camille", '/referent ajouter "mobilité" @alice')
    named = len(chat.direct_messages("alice"))
    now = chat.clock.now()
    _share(chat, "Le vélo-bus de Dole", "Mobilités", now + timedelta(hours=1))
    _share(chat, "Cantines bio", "alimentation", now + timedelta(hours=1))
    _highlight(chat, "Le covoiturage a doublé !", ["mobilité"], now + timedelta(hours=2))
    await chat.advance(timedelta(hours=3))
    await fill_profile(chat, "chloe", organisation="Asso Vélo", interests="mobilité")
    await chat.advance(timedelta(hours=3))
    assert len(chat.direct_messages("alice")) == named  # not a day yet
    await chat.advance(timedelta(hours=19))
    messages = chat.direct_messages("alice")
    assert len(messages) == named + 1
    news = messages[-1].text
    assert "Le vélo-bus de Dole" in news
    assert "Cantines bio" not in news
    assert "« Le covoiturage a doublé ! » — Bob" in news
    assert "Chloe (Asso Vélo)" in news
    # more news the same day waits for the next day, in one message
    _share(chat, "Une navette électrique", "mobilité", chat.clock.now() + timedelta(minutes=5))
    _share(chat, "Des vélos en prêt", "mobilité", chat.clock.now() + timedelta(minutes=6))
    await chat.advance(timedelta(hours=2))
    assert len(chat.direct_messages("alice")) == named + 1
    await chat.advance(timedelta(hours=23))
    messages = chat.direct_messages("alice")
    assert len(messages) == named + 2
    assert "Une navette électrique" in messages[-1].text
    assert "Des vélos en prêt" in messages[-1].text
    assert "Le vélo-bus de Dole" not in messages[-1].text
    await chat.advance(timedelta(days=2))  # nothing new: nothing sent
    assert len(chat.direct_messages("alice")) == named + 2
