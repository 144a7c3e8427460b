"""Dispatch: user errors roll back and answer in the actor's language; crashes get an error id."""

from __future__ import annotations

import logging
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bot.app import App
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.context import Context
from bot.core import (
    Actor,
    ChoiceEvent,
    CommandEvent,
    MessageEvent,
    MessageRef,
    Place,
    Reply,
    Role,
    UserError,
)
from bot.family import Family
from bot.registry import Args, command
from bot.storage.members import Member
from bot.wiring import FAMILIES
from tests.conftest import Database
from tests.support.chat import Chat, place, text_of
from tests.support.platform import RecordingPlatform

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ALICE = Actor("console", "alice", "Alice")
CAMILLE = Actor("console", "camille", "Camille", roles=frozenset({Role.MEMBER, Role.COORDINATOR}))
HERE = Place("console", "general", "general")


@command("casse", "crash", "Always fails.")
def crash(ctx: Context, args: Args) -> Reply:
    ctx.member.display_name = "changed before the crash"
    raise RuntimeError("boom")


@command("refuse", "refuse", "Always refuses.")
def refuse(ctx: Context, args: Args) -> Reply:
    ctx.member.display_name = "changed before the refusal"
    raise UserError(ctx._("Unknown command /{name}.", name="x"))


def _app(database: Database, tmp_path: Path) -> App:
    module = types.ModuleType("failing")
    module.crash = crash  # type: ignore[attr-defined]
    module.refuse = refuse  # type: ignore[attr-defined]
    settings = load_settings(
        None, database_url=database.url, environ={}, overrides={"data_dir": str(tmp_path)}
    )
    return App(
        settings,
        clock=FrozenClock(NOW),
        families=[*FAMILIES, Family("failing", handlers=(module,))],
    )


def _event(actor: Actor, text: str) -> CommandEvent:
    return CommandEvent(actor=actor, place=HERE, at=NOW, text=text)


@pytest.mark.asyncio
async def test_unexpected_error_is_logged_with_an_id_and_nothing_is_kept(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(database, tmp_path)
    app.add_platform(RecordingPlatform())
    await app.start(with_scheduler=False)
    try:
        await app.process(_event(ALICE, "aide"))
        with caplog.at_level(logging.ERROR):
            outcome = await app.process(_event(ALICE, "casse"))
        assert outcome.error_id is not None
        assert f"(erreur {outcome.error_id})" in outcome.replies[0].text
        assert outcome.replies[0].ephemeral
        assert any(outcome.error_id in r.getMessage() and r.exc_info for r in caplog.records)
        outcome = await app.process(_event(ALICE, "refuse"))
        assert outcome.error_id is None
        assert outcome.replies[0].text == "Commande inconnue : /x."
        with Session(app.engine) as db:
            assert db.scalars(select(Member.display_name)).all() == ["Alice"]
    finally:
        await app.stop()


@pytest.mark.asyncio
async def test_choices_nobody_handles_and_bots_are_answered_sensibly(
    database: Database, tmp_path: Path
) -> None:
    app = _app(database, tmp_path)
    await app.start(with_scheduler=False)
    try:
        outcome = await app.process(ChoiceEvent(actor=ALICE, place=HERE, at=NOW, action="gone:1"))
        assert outcome.replies[0].text == "Ce bouton ne fait plus rien."
        robot = Actor("console", "robot", "Robot", is_bot=True)
        assert (await app.process(_event(robot, "aide"))).replies == []
        with Session(app.engine) as db:
            assert (
                db.scalar(select(func.count()).select_from(Member).where(Member.user_id == "robot"))
                == 0
            )
        english = Actor("console", "sam", "Sam", locale="en-GB")
        assert (
            "commands you can use" in (await app.process(_event(english, "aide"))).replies[0].text
        )
        coordinator_help = (await app.process(_event(CAMILLE, "aide"))).replies[0].text
        assert "/annonce" in coordinator_help
    finally:
        await app.stop()


def _make_read_only(chat: Chat, read_only: bool) -> None:
    """Every new connection of the app refuses writes the way the server itself does."""
    engine = chat.app.engine

    def on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute(f"PRAGMA query_only = {'ON' if read_only else 'OFF'}")
        else:
            mode = "READ ONLY" if read_only else "READ WRITE"
            cursor.execute(f"SET SESSION CHARACTERISTICS AS TRANSACTION {mode}")
        cursor.close()
        if engine.dialect.name != "sqlite":
            connection.commit()

    event.listen(engine, "connect", on_connect)
    engine.dispose()


@pytest.mark.asyncio
async def test_a_database_that_cannot_be_written_is_explained_and_the_bot_keeps_serving(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    await chat.command("alice", "/aide")
    _make_read_only(chat, True)
    here = place()
    with caplog.at_level(logging.ERROR):
        # A new member: recording them is the first write of the event.
        outcome = await chat.app.process(
            CommandEvent(actor=chat.actor("nadia"), place=here, at=NOW, text="aide")
        )
        assert outcome.error_id is not None
        (reply,) = outcome.replies
        assert "la base de données est en lecture seule ou pleine" in reply.text
        assert outcome.error_id in reply.text and reply.ephemeral
        # A known member's command that writes (a poll) is refused the same way.
        outcome = await chat.app.process(
            CommandEvent(
                actor=chat.actor("camille"), place=here, at=NOW, text='sondage "Q ?" "A" "B"'
            )
        )
        assert "lecture seule" in outcome.replies[0].text
        # A plain chat message is not a request: no answer at all.
        said = MessageEvent(
            chat.actor("omar"), here, "bonjour", MessageRef("console", "g", "1"), NOW
        )
        outcome = await chat.app.process(said)
        assert outcome.replies == [] and outcome.error_id is not None
    assert any("cannot be written" in r.getMessage() for r in caplog.records)
    _make_read_only(chat, False)
    assert "Tisserand" in text_of(await chat.command("nadia", "/aide"))
    with chat.db() as db:
        assert "nadia" in db.scalars(select(Member.user_id)).all()
        assert "omar" not in db.scalars(select(Member.user_id)).all()
