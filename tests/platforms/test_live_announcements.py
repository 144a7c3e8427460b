"""The announcement of a session is edited on every platform as it fills, and once the session
is cancelled it says so and offers no button any more (Discord: the components are removed;
Rocket.Chat: the text and its numbered list are edited, the action buttons cannot be edited by
``chat.update`` and answer that the session is cancelled; the console: the edited message).

The scenario's adapters (tests/platforms/test_scenario.py) drive the real app and platform
against the fakes over loopback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from commands.sessions.live import EDIT_THROTTLE
from tests.conftest import Database
from tests.fakes.discord import FakeDiscord
from tests.fakes.rocketchat import FakeRocketChat
from tests.platforms.test_scenario import (
    COORDINATOR,
    CORE_STEPS,
    START,
    Command,
    MoveClock,
    Post,
    Run,
    Seen,
    Step,
    _settings,
    adapter_for,
    chat,
    play,
    session_steps,
)

__all__ = ["chat"]  # the fixture choosing the platform

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


def _announcement(posts: list[Post]) -> Post:
    (found,) = [p for p in posts if "Atelier compost" in p.text and "/inscription" in p.text]
    return found


@pytest.mark.asyncio
async def test_the_announcement_is_edited_and_loses_its_buttons(
    no_leftover_tasks: None,
    chat: tuple[str, FakeRocketChat | FakeDiscord | None],
    database: Database,
    tmp_path: Path,
) -> None:
    platform, _ = chat
    later = START + EDIT_THROTTLE + timedelta(seconds=1)
    steps = [
        CORE_STEPS[1],  # the member chooses English, as in the scenario
        *session_steps(),  # one seat: the member takes it, the coordinator waits
        Step("the throttled edit falls due", MoveClock(later)),
    ]
    async with adapter_for(chat, _settings(database, tmp_path), tmp_path) as adapter:
        await play(adapter, steps)
        announcement = _announcement(adapter.public_posts())
        assert "complet — liste d'attente : 1" in announcement.text
        assert "session:1:register" in announcement.actions or platform == "console"
        cancel = Step(
            "the coordinator cancels: the announcement says so, without buttons",
            Run(COORDINATOR, Command("session annuler 1", "session cancel", {"number": 1})),
            public=Seen(contains=("est annulée",), count=None),  # the notice (+ its .ics)
            private=Seen(contains=("est annulée", "2 personnes inscrites prévenues"), count=2),
            other=Seen(contains=("is cancelled",), count=None),  # the member (English) and .ics
        )
        await play(adapter, [cancel, Step("edit due", MoveClock(later + EDIT_THROTTLE * 2))])
        edited = [p for p in adapter.public_posts() if p.id == announcement.id]
        (now,) = edited
        assert "❌ Annulée." in now.text and "places restantes" not in now.text
        assert "(1) S'inscrire" not in now.text and ":one:" not in now.text
        if platform == "discord":
            assert now.actions == ()  # the buttons are gone
