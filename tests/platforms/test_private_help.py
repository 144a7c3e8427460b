"""/aide is answered to the asker only (issue 15): an ephemeral answer to the Discord interaction
(not a direct message), a direct message on Rocket.Chat, a private line on the console; in the
asker's language, while what the channel sees stays in the network's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Database
from tests.fakes.discord import FakeDiscord
from tests.fakes.rocketchat import FakeRocketChat
from tests.platforms.test_scenario import (
    CHANNEL,
    CORE_STEPS,
    MEMBER,
    RC_BOT,
    Command,
    Run,
    Seen,
    Step,
    _settings,
    adapter_for,
    chat,
    play,
)

__all__ = ["chat"]  # the fixture choosing the platform

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


@pytest.mark.asyncio
async def test_help_is_answered_to_the_asker_only(
    no_leftover_tasks: None,
    chat: tuple[str, FakeRocketChat | FakeDiscord | None],
    database: Database,
    tmp_path: Path,
) -> None:
    platform, server = chat
    steps = [
        *CORE_STEPS[:3],  # help in French, English chosen, help in English: all private
        Step(
            "the English member lists the gazettes: the channel reads it in French",
            Run(MEMBER, Command("gazettes", "gazettes")),
            public=Seen(contains=("Aucune gazette n'a encore été publiée",)),
        ),
    ]
    async with adapter_for(chat, _settings(database, tmp_path), tmp_path) as adapter:
        await play(adapter, steps)
        helps = [p for p in adapter.private_posts(MEMBER) if "/profil" in p.text]
        assert helps, "no private help"
        if isinstance(server, FakeDiscord):
            member = adapter.users[MEMBER]  # type: ignore[attr-defined]
            dm = server.dm_channel_of(member)
            answers = [
                m
                for m in server.messages.values()
                if m.author_id == server.bot.id and "/profil" in m.content
            ]
            assert answers and all(m.ephemeral_to == member.id for m in answers)
            assert dm is None or all(m.channel_id != dm.id for m in answers)
        elif isinstance(server, FakeRocketChat):
            room = server.room(CHANNEL)
            in_room = [m for m in server.messages_by(RC_BOT, room) if "/profil" in str(m)]
            assert in_room == []
        else:
            assert platform == "console"
