"""/annuaire (/directory) through the console chat: visibility, filters, pages, privacy."""

from __future__ import annotations

import pytest

from tests.commands.members.support import add_themes, fill_profile
from tests.support.chat import Chat, text_of

pytestmark = pytest.mark.asyncio


async def _network(chat: Chat) -> None:
    add_themes(chat, "mobilité", "alimentation", "énergie")
    await fill_profile(
        chat,
        "alice",
        organisation="Mairie de Lons",
        territory="Pays de Lons",
        interests="mobilité, énergie",
        category="elu",
    )
    await fill_profile(
        chat,
        "bob",
        organisation="CC Bresse",
        territory="Bresse",
        interests="alimentation",
        category="agent",
    )
    await fill_profile(chat, "chloe", organisation="Asso Vélo", interests="Mobilités")
    await chat.command("bob", "/profil visibilite coordination")


async def test_members_see_visible_profiles_privately(chat: Chat) -> None:
    await _network(chat)
    replies = await chat.command("dany", "/annuaire")
    assert all(reply.ephemeral for reply in replies)
    text = text_of(replies)
    assert "Annuaire : 2 membres" in text
    assert "**Alice** — élu·e · Mairie de Lons · Pays de Lons" in text
    assert "Centres d'intérêt : mobilité, énergie" in text
    assert "Mairie de Lons" in text
    assert "Asso Vélo" in text
    assert "Bob" not in text  # visible to the coordination only
    assert chat.posts() == []  # nothing said in the channel
    coordinator = text_of(await chat.command("camille", "/annuaire"))
    assert "CC Bresse" in coordinator
    assert "3 membres" in coordinator


async def test_filters_by_theme_territory_and_category(chat: Chat) -> None:
    await _network(chat)
    by_theme = text_of(await chat.command("dany", "/annuaire mobilites"))
    assert "Alice" in by_theme
    assert "Chloe" in by_theme
    assert "2 membres" in by_theme
    by_place = text_of(await chat.command("dany", "/annuaire lons"))
    assert "Alice" in by_place
    assert "Chloe" not in by_place
    by_category = text_of(await chat.command("camille", "/annuaire agents"))
    assert "Bob" in by_category
    assert "Alice" not in by_category
    nobody = text_of(await chat.command("dany", "/annuaire eau"))
    assert "Personne" in nobody
    assert "« eau »" in nobody


async def test_pages(chat: Chat) -> None:
    for number in range(12):
        await chat.command(f"m{number:02d}", f'/profil organisation "Commune {number}"')
    first = text_of(await chat.command("dany", "/annuaire"))
    assert "12 membres" in first
    assert "Page 1 sur 2" in first
    assert "/annuaire --page 2" in first
    assert first.count("**M") == 10
    second = text_of(await chat.command("dany", "/annuaire --page 2"))
    assert second.count("**M") == 2
    assert "Commune 11" in second
    refused = text_of(await chat.command("dany", "/annuaire --page 3"))
    assert "pas de page 3" in refused


async def test_empty_directory_and_english(chat: Chat) -> None:
    assert "vide" in text_of(await chat.command("dany", "/annuaire"))
    chat.locales["dany"] = "en"
    await chat.command("alice", '/profil organisation "Mairie"')
    assert "Directory: 1 member" in text_of(await chat.command("dany", "/directory"))
