"""The gazette signs a quote with the author's organisation when their profile gives one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.storage.highlights import Highlight
from tests.support.chat import Chat

pytestmark = pytest.mark.asyncio


async def test_the_byline_names_the_organisation(chat: Chat) -> None:
    await chat.command("alice", '/profil organisation "Mairie de Lons"')
    ref = await chat.say("alice", "Le vélo-bus roule depuis septembre !")
    await chat.react("camille", ref)
    with chat.db() as db:
        number = db.scalars(select(Highlight.id)).one()
    await chat.click("alice", f"consent:{number}:yes", channel="@alice")
    await chat.command("camille", "/gazette brouillon")
    await chat.command("camille", "/gazette publier")
    [post] = [p for p in chat.posts() if p.attachments and "gazette" in p.attachments[0].filename]
    page = post.attachments[0].data.decode("utf-8")
    assert "Alice (Mairie de Lons)" in page
