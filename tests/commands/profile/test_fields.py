"""/profil organisation|territoire|interets|presentation|visibilite through the console chat."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.storage.members import Member
from bot.storage.profiles import MemberProfile, organisation_of
from tests.commands.members.support import add_themes
from tests.support.chat import Chat, text_of

pytestmark = pytest.mark.asyncio


def _profile(chat: Chat, user: str) -> MemberProfile | None:
    with chat.db() as db:
        member = db.scalars(select(Member).where(Member.user_id == user)).one()
        return db.get(MemberProfile, member.id)


async def test_fields_are_stored_and_shown(chat: Chat) -> None:
    add_themes(chat, "mobilité", "Alimentation", "énergie")
    said = text_of(await chat.command("alice", '/profil organisation "Mairie de Lons"'))
    assert "Mairie de Lons" in said
    await chat.command("alice", '/profil territoire "Pays  de Lons"')
    said = text_of(await chat.command("alice", '/profil interets "Mobilités, alimentations"'))
    assert "mobilité, Alimentation" in said
    await chat.command("alice", '/profil presentation "Chargée de mission vélo"')
    shown = text_of(await chat.command("alice", "/profil"))
    assert "Organisation : Mairie de Lons" in shown
    assert "Territoire : Pays de Lons" in shown
    assert "Centres d'intérêt : mobilité, Alimentation" in shown
    assert "Chargée de mission vélo" in shown
    assert "vu par tous les membres" in shown
    with chat.db() as db:
        member = db.scalars(select(Member).where(Member.user_id == "alice")).one()
        assert organisation_of(db, member.id) == "Mairie de Lons"


async def test_clear_and_show_one_field(chat: Chat) -> None:
    await chat.command("bob", '/profil organisation "CC du Jura"')
    assert "CC du Jura" in text_of(await chat.command("bob", "/profil organisation"))
    assert "vidée" in text_of(await chat.command("bob", "/profil organisation -"))
    profile = _profile(chat, "bob")
    assert profile is not None
    assert profile.organisation is None
    assert "n'est pas renseignée" in text_of(await chat.command("bob", "/profil organisation"))


async def test_unknown_theme_suggests_the_nearest_and_keeps_the_old(chat: Chat) -> None:
    add_themes(chat, "mobilité", "alimentation")
    await chat.command("alice", '/profil interets "mobilité"')
    said = text_of(await chat.command("alice", '/profil interets "mobilté, eau"'))
    assert "mobilité" in said  # mobilté is forgiven? no: it is a typo, the nearest is suggested
    said = text_of(await chat.command("alice", '/profil interets "alimentaton"'))
    assert "« alimentaton »" in said
    assert "« alimentation »" in said
    profile = _profile(chat, "alice")
    assert profile is not None
    assert profile.interests == ["mobilité"]


async def test_without_network_themes_interests_are_kept_as_typed(chat: Chat) -> None:
    await chat.command("alice", '/profil interets "Vélo, vélos, eau"')
    profile = _profile(chat, "alice")
    assert profile is not None
    assert profile.interests == ["Vélo", "eau"]


async def test_too_long_and_mass_mentions_are_refused(chat: Chat) -> None:
    await chat.command("alice", '/profil organisation "Mairie"')
    said = text_of(await chat.command("alice", f'/profil organisation "{"x" * 201}"'))
    assert "201 caractères" in said
    assert "200" in said
    said = text_of(await chat.command("alice", '/profil presentation "Bonjour @everyone"'))
    assert "@everyone" in said
    profile = _profile(chat, "alice")
    assert profile is not None
    assert profile.organisation == "Mairie"
    assert profile.presentation is None


async def test_visibility(chat: Chat) -> None:
    said = text_of(await chat.command("alice", "/profil visibilite coordination"))
    assert "coordination" in said
    profile = _profile(chat, "alice")
    assert profile is not None
    assert profile.visibility == "coordination"
    said = text_of(await chat.command("alice", "/profil visibilite partout"))
    assert "partout" in said
    chat.locales["bob"] = "en"
    said = text_of(await chat.command("bob", "/profile visibility members"))
    assert "every member" in said
