"""A free-text question answered through a Discord modal (issue 17): the question's "Répondre"
button opens a modal (callback type 9) whose submit (interaction type 5) is stored as the
answer; the real discord.py client talks to the fake Discord over a real socket, and the fake
checks the modal as Discord's API does."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.core import Choice, Reply, TextPrompt
from bot.platforms.discord.views import MODAL_PREFIX, choice_custom_id, modal_request
from bot.storage.questionnaires import QuestionnaireAnswer
from tests.conftest import Database
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.interactions import validated_modal
from tests.fakes.discord.model import DiscordHTTPError
from tests.platforms.test_scenario import (
    COORDINATOR,
    MEMBER,
    Channel,
    Command,
    DiscordAdapter,
    _settings,
    adapter_for,
)

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

QUESTION = "Que proposez-vous pour l'an prochain, en quelques mots ?"


@pytest.mark.asyncio
async def test_a_free_text_question_is_answered_through_a_modal(
    no_leftover_tasks: None,
    discord_server: FakeDiscord,
    database: Database,
    tmp_path: Path,
) -> None:
    chat = ("discord", discord_server)
    engine = database.engine()  # one engine, disposed at the end: no connection left open
    try:
        await _answer_through_the_modal(chat, discord_server, database, tmp_path, engine)
    finally:
        engine.dispose()


async def _answer_through_the_modal(
    chat: tuple[str, FakeDiscord],
    discord_server: FakeDiscord,
    database: Database,
    tmp_path: Path,
    engine: Engine,
) -> None:
    async with adapter_for(chat, _settings(database, tmp_path), tmp_path) as adapter:
        assert isinstance(adapter, DiscordAdapter)
        fake = discord_server
        await adapter.run(COORDINATOR, Command("", "survey create", {"title": "Bilan"}), {})
        await adapter.run(
            COORDINATOR,
            Command("", "survey question", {"number": 1, "kind": "text", "text": QUESTION}),
            {},
        )
        await adapter.run(
            COORDINATOR,
            Command("", "survey launch", {"number": 1, "channel": Channel("general")}),
            {},
        )
        announce = adapter.public_posts()[-1]
        await adapter.pick(MEMBER, announce, 1)  # start: the free-text question, privately
        question = adapter.private_posts(MEMBER)[-1]
        assert QUESTION in question.text
        message = fake.messages[int(question.id)]
        modal_ids = [c for c in message.custom_ids() if c.startswith(MODAL_PREFIX)]
        assert len(modal_ids) == 1, message.custom_ids()
        member = adapter.users[MEMBER]

        opened = await fake.click(member, message, modal_ids[0])
        await fake.wait_for(lambda: opened.modal is not None, 5)
        assert opened.callback_types == [9]
        modal = opened.modal
        assert modal is not None
        assert modal["custom_id"] == "tis:survey:1:q:0:t"
        assert modal["title"] == "Répondre"
        field = modal["components"][0]["components"][0]
        assert field["type"] == 4 and field["custom_id"] == "text"
        assert field["label"] == QUESTION[:44] + "…"
        assert field["max_length"] == 2000
        before = adapter.app.handled
        with Session(engine) as db:
            assert db.scalars(select(QuestionnaireAnswer)).all() == []

        submitted = await fake.submit_modal(opened, {"text": "  Plus de visites  de terrain "})
        await adapter.app.wait_handled(before + 1)
        assert submitted.acknowledged
        with Session(engine) as db:
            values = [a.value for a in db.scalars(select(QuestionnaireAnswer))]
        assert values == ["Plus de visites de terrain"]
        thanks = adapter.private_posts(MEMBER)[-1]
        assert "Merci" in thanks.text or "Thank you" in thanks.text

        # The same modal submitted twice is not counted twice.
        again = await fake.submit_modal(opened, {"text": "Encore"})
        await adapter.app.wait_handled(before + 2)
        assert again.acknowledged
        with Session(engine) as db:
            assert len(db.scalars(select(QuestionnaireAnswer)).all()) == 1


def _modal(title: str = "Répondre", label: str = "Votre réponse", kind: int = 4) -> dict:
    return {
        "custom_id": "tis:survey:1:q:0:t",
        "title": title,
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": kind, "custom_id": "text", "label": label, "style": 2},
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    "bad",
    [
        _modal(title="x" * 46),
        _modal(label="y" * 46),
        _modal(kind=2),
        {**_modal(), "components": [{"type": 4, "custom_id": "text", "label": "a", "style": 1}]},
        {**_modal(), "custom_id": ""},
    ],
)
def test_the_fake_refuses_a_modal_discord_refuses(bad: dict) -> None:
    assert validated_modal(_modal()) is not None
    with pytest.raises(DiscordHTTPError) as refused:
        validated_modal(bad)
    assert refused.value.status == 400


def test_a_text_choice_carries_its_modal_in_the_custom_id_and_through_the_outbox() -> None:
    choice = Choice("Répondre", "survey:3:q:1:t", asks_text=TextPrompt("Q" * 60, 500))
    custom_id = choice_custom_id(choice)
    assert len(custom_id) <= 100
    request = modal_request(custom_id)
    assert request is not None
    action, prompt = request
    assert action == "survey:3:q:1:t" and prompt.max_length == 500
    assert prompt.label == "Q" * 44 + "…"
    reply = Reply("question", choices=(choice, Choice("Passer", "survey:3:q:1:skip")))
    assert Reply.from_payload(reply.to_payload()).choices == reply.choices
    assert [c.action for c in reply.without_text_choices().choices] == ["survey:3:q:1:skip"]
