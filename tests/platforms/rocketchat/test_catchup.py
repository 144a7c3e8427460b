"""Rocket.Chat: nothing lost across a restart of the bot, and nothing handled twice.

A *run* is one life of the bot process: the real :class:`~bot.app.App` (every command family)
and the real Rocket.Chat platform, built by :func:`bot.runner.build_platforms` as ``tisserand
run`` builds them, against the fake server over loopback, on SQLite and on PostgreSQL. Between
two runs the platform is stopped and people go on talking; the next run, on the same database,
must answer what was said meanwhile, once, in the order it was said.

Which command a bot message answers is read from its id: the n-th reply to a message gets the id
``message_id_for("reply:<message id>:<n>")``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import load_settings
from bot.core import CommandEvent, Event, ReactionEvent
from bot.platforms.rocketchat import (
    PLATFORM,
    RocketChatError,
    RocketChatPlatform,
    RocketChatSettings,
)
from bot.platforms.rocketchat.delivery import message_id_for
from bot.runner import build_platforms
from bot.storage.engine import make_session_factory, migrate
from bot.storage.platform_state import CLEAN_STOP, LISTENING, Cursor, CursorStore
from bot.storage.polls import Poll
from bot.wiring import make_app
from tests.conftest import Database
from tests.fakes.rocketchat import FakeRocketChat

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

BOT = "tisserand"
PASSWORD = "s3cret-du-bot"
WAIT = 15.0
HOUR_MS = 3_600_000


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeRocketChat]:
    """alice (a member), camille (a coordinator), ``#general`` and the private ``#bureau``."""
    server = FakeRocketChat(full_user_info_roles=("admin", "bot"))
    await server.start()
    try:
        server.add_user(BOT, password=PASSWORD, name="Tisserand", roles=("user", "bot"), bot=True)
        server.add_user("alice", password="a", name="Alice")
        server.add_user("camille", password="c", name="Camille", roles=("user", "coordinator"))
        server.add_room("general", members=[BOT, "alice", "camille"])
        server.add_room("bureau", members=[BOT, "camille"], private=True)
        yield server
    finally:
        await server.close()


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TISSERAND_ROCKETCHAT_PASSWORD", "TISSERAND_ROCKETCHAT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    monkeypatch.setenv("TISSERAND_ROCKETCHAT_PASSWORD", PASSWORD)


class FlakyStore(CursorStore):
    """The real store, whose writes fail while ``failing`` (a full disk, a lost database)."""

    failing = 0
    """How many of the next writes fail (-1: all)."""

    def save(self, cursors: Mapping[str, Cursor], now: datetime) -> None:
        if self.failing:
            if self.failing > 0:
                self.failing -= 1
            raise RuntimeError("the database is unavailable")
        super().save(cursors, now)


class Run:
    """One life of the bot process on ``database``."""

    def __init__(
        self,
        fake: FakeRocketChat,
        database: Database,
        tmp_path: Path,
        *,
        store: Callable[[sessionmaker[Session]], CursorStore] | None = None,
        **rocketchat: Any,
    ) -> None:
        options = {"server_url": fake.url, "username": BOT, "messages_per_second": 100}
        options.update(rocketchat)
        settings = load_settings(
            None,
            database_url=database.url,
            environ={},
            overrides={"data_dir": str(tmp_path / "data"), "rocketchat": options},
        )
        self.app = make_app(settings)
        if store is None:
            (platform,) = build_platforms(settings, self.app)  # as `tisserand run` does
        else:
            platform = RocketChatPlatform(
                RocketChatSettings.model_validate(options),
                password=PASSWORD,
                cursors=store(self.app.sessions),
            )
        assert isinstance(platform, RocketChatPlatform)
        self.platform = platform
        self.app.add_platform(platform)

    async def __aenter__(self) -> Run:
        await self.app.start(with_scheduler=False)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.app.stop()


RunFactory = Callable[..., Run]
"""``run(**rocketchat)``: one life of the bot on the fake server and the test's database
(``store`` replaces the cursor store; other keywords are ``[rocketchat]`` settings)."""


@pytest.fixture
def run(
    no_leftover_tasks: None,
    secrets: None,
    fake: FakeRocketChat,
    database: Database,
    tmp_path: Path,
) -> RunFactory:
    """Runs of the bot, each used as ``async with run(...) as life:``; ``no_leftover_tasks``
    comes first so that it checks, after everything else is torn down, that no task is left."""

    def make(**options: Any) -> Run:
        return Run(fake, database, tmp_path, **options)

    return make


def reply_id(message: Mapping[str, Any], n: int = 0) -> str:
    return message_id_for(f"reply:{message['_id']}:{n}")


def answered(fake: FakeRocketChat) -> list[str]:
    """The texts of the messages the bot answered, in the order of its answers (``?`` for a bot
    message that answers no message: outbox posts)."""
    said = {
        reply_id(m, n): m["msg"]
        for m in fake.messages.values()
        if m["u"]["username"] != BOT
        for n in range(3)
    }
    return [said.get(m["_id"], "?") for m in fake.messages_by(BOT)]


async def answer(fake: FakeRocketChat, *messages: Mapping[str, Any]) -> None:
    """Wait until each of ``messages`` has the bot's answer."""
    await fake.wait_for(lambda: all(reply_id(m) in fake.messages for m in messages), WAIT)


def position(fake: FakeRocketChat, message: Mapping[str, Any]) -> Cursor:
    """The cursor pointing at ``message``."""
    ts = fake.messages[message["_id"]]["ts"]
    return Cursor(datetime.fromtimestamp(ts / 1000, UTC), message["_id"])


def stored_cursors(database: Database) -> dict[str, Cursor]:
    engine = database.engine()
    try:
        return CursorStore(make_session_factory(engine), PLATFORM).load()
    finally:
        engine.dispose()


@pytest.mark.asyncio
async def test_what_is_said_while_the_bot_is_stopped_is_answered_once_in_order(
    run: RunFactory, fake: FakeRocketChat, database: Database
) -> None:
    general, bureau = fake.room("general"), fake.room("bureau")
    async with run():
        before = fake.say("alice", general, "!aide sondage")
        await answer(fake, before)

    # The bot is stopped (a deploy): people go on talking, in two rooms and in a direct
    # conversation opened meanwhile.
    dm = fake.direct_room("alice", BOT)
    missed = [
        fake.say("alice", general, "!aide inscription"),
        fake.say("camille", bureau, "!aide profil"),
        fake.say("alice", dm, "aide sessions"),
        fake.say("camille", general, "Bonjour à toutes et tous"),
        fake.say("camille", bureau, "!aide partager"),
    ]

    async with run() as second:
        await answer(fake, *(m for m in missed if m["msg"].startswith(("!", "aide"))))
        assert second.platform.stats.caught_up == 5
        # The first run stopped cleanly: no need to look for answers it may have given.
        assert fake.requests["chat.getMessage"] == 0
        live = fake.say("alice", general, "!aide voter")
        await answer(fake, live)
    assert answered(fake) == [
        "!aide sondage",
        "!aide inscription",
        "!aide profil",
        "aide sessions",
        "!aide partager",
        "!aide voter",
    ]
    profile = fake.messages[reply_id(fake.messages_in(bureau)[0])]
    assert profile["rid"] == bureau.id and "/profil" in profile["msg"]
    assert fake.messages[reply_id(fake.messages_in(dm)[0])]["rid"] == dm.id

    # Another restart: nothing is answered again.
    async with run():
        again = fake.say("camille", general, "!aide veille")
        await answer(fake, again)
    assert answered(fake)[6:] == ["!aide veille"]
    assert len(fake.messages_by(BOT)) == 7

    cursors = stored_cursors(database)
    assert cursors[general.id].message_id == again["_id"]
    assert {general.id, bureau.id, dm.id, LISTENING} <= set(cursors)


@pytest.mark.asyncio
async def test_the_first_start_replays_nothing(
    run: RunFactory, fake: FakeRocketChat, database: Database
) -> None:
    general = fake.room("general")
    fake.say("alice", general, "!aide sondage")  # before the bot ever ran on this database
    fake.say("camille", fake.room("bureau"), "!aide profil")
    async with run() as run:
        live = fake.say("alice", general, "!aide voter")
        await answer(fake, live)
        assert run.platform.stats.caught_up == 0
    assert answered(fake) == ["!aide voter"]
    cursors = stored_cursors(database)
    assert cursors[general.id] == position(fake, live)
    assert cursors[LISTENING].message_id == CLEAN_STOP


@pytest.mark.asyncio
async def test_messages_older_than_the_window_are_not_replayed(
    run: RunFactory, fake: FakeRocketChat, database: Database
) -> None:
    # The bot last ran two days ago.
    now = int(time.time() * 1000)
    two_days_ago = datetime.fromtimestamp(now / 1000, UTC) - timedelta(days=2)
    engine = database.engine()
    migrate(engine)
    general, bureau = fake.room("general"), fake.room("bureau")
    CursorStore(make_session_factory(engine), PLATFORM).save(
        {LISTENING: Cursor(two_days_ago), general.id: Cursor(two_days_ago, "gone")},
        two_days_ago,
    )
    engine.dispose()
    fake.say("alice", general, "!aide sondage", at=now - 30 * HOUR_MS)
    fake.say("camille", bureau, "!aide profil", at=now - 25 * HOUR_MS)
    recent = fake.say("camille", bureau, "!aide partager", at=now - 2 * HOUR_MS)
    latest = fake.say("alice", general, "!aide inscription", at=now - HOUR_MS)

    async with run(catch_up_hours=24) as run:
        await answer(fake, recent, latest)
        assert run.platform.stats.caught_up == 2
        live = fake.say("alice", general, "!aide voter")
        await answer(fake, live)
    assert answered(fake) == ["!aide partager", "!aide inscription", "!aide voter"]


@pytest.mark.asyncio
async def test_at_most_the_newest_messages_of_a_room_are_replayed(
    run: RunFactory, fake: FakeRocketChat
) -> None:
    general = fake.room("general")
    async with run():
        first = fake.say("alice", general, "!aide sondage")
        await answer(fake, first)
    missed = [fake.say("alice", general, f"!aide {topic}") for topic in ("profil", "partager")]
    missed.append(fake.say("alice", general, "!aide inscription"))
    async with run(catch_up_max_messages=2) as run:
        await answer(fake, *missed[1:])
        assert run.platform.stats.catch_up_truncated == 1
        live = fake.say("alice", general, "!aide voter")
        await answer(fake, live)
    assert answered(fake) == ["!aide sondage", "!aide partager", "!aide inscription", "!aide voter"]


@pytest.mark.asyncio
async def test_catch_up_hours_zero_turns_the_catch_up_after_a_restart_off(
    run: RunFactory, fake: FakeRocketChat
) -> None:
    general = fake.room("general")
    async with run():
        first = fake.say("alice", general, "!aide sondage")
        await answer(fake, first)
    fake.say("alice", general, "!aide profil")
    async with run(catch_up_hours=0):
        live = fake.say("alice", general, "!aide voter")
        await answer(fake, live)
    assert answered(fake) == ["!aide sondage", "!aide voter"]


@pytest.mark.asyncio
async def test_edited_messages_do_not_run_again_after_a_restart(
    run: RunFactory, fake: FakeRocketChat
) -> None:
    general = fake.room("general")
    async with run():
        older = fake.say("alice", general, "!aide sondage")
        newest = fake.say("alice", general, "!aide profil")
        await answer(fake, older, newest)
    # Edited while the bot is stopped (the newest is the one the stored cursor points at)...
    fake.edit("alice", older["_id"], "!aide voter")
    fake.edit("alice", newest["_id"], "!aide sessions")
    async with run():
        # ... and again once it runs: the edits are pushed as updates.
        fake.edit("alice", older["_id"], "!aide partager")
        fake.edit("alice", newest["_id"], "!aide veille")
        live = fake.say("alice", general, "!aide inscription")  # handled after the edits
        await answer(fake, live)
    assert answered(fake) == ["!aide partager", "!aide veille", "!aide inscription"]
    assert len(fake.messages_by(BOT)) == 3


@pytest.mark.asyncio
async def test_a_crash_before_the_cursor_is_written_runs_no_command_twice(
    run: RunFactory, fake: FakeRocketChat, database: Database
) -> None:
    """The previous run handled a command (a poll created, its message posted, the creator
    told) but stopped before its cursor was written: the next run reads that command again and
    sees the bot's answer to it, so the poll is not created twice."""
    general = fake.room("general")
    stores: list[FlakyStore] = []

    def flaky(sessions: sessionmaker[Session]) -> CursorStore:
        stores.append(FlakyStore(sessions, PLATFORM))
        return stores[-1]

    async with run(store=flaky):
        first = fake.say("alice", general, "!aide sondage")
        await answer(fake, first)
        await fake.wait_for(
            lambda: stored_cursors(database).get(general.id) == position(fake, first), WAIT
        )
        stores[0].failing = -1  # from now on, no cursor reaches the database
        poll = fake.say("camille", general, '!sondage "Quel thème ?" "Eau" "Énergie"')
        await answer(fake, poll)  # the creator is told, privately
    posted = len(fake.messages_by(BOT))
    assert answered(fake).count('!sondage "Quel thème ?" "Eau" "Énergie"') == 1
    stored = stored_cursors(database)
    assert stored[general.id].message_id == first["_id"]
    assert stored[LISTENING].message_id is None  # not a clean stop

    after = fake.say("alice", general, "!aide profil")  # said while the bot is down
    async with run() as run:
        await answer(fake, after)
        assert run.platform.stats.replays_avoided == 1
        assert run.platform.stats.caught_up == 2
        live = fake.say("alice", general, "!aide voter")
        await answer(fake, live)
        with run.app.sessions() as db:
            assert db.scalar(select(func.count()).select_from(Poll)) == 1
    assert len(fake.messages_by(BOT)) == posted + 2
    assert answered(fake)[-2:] == ["!aide profil", "!aide voter"]


# --- the platform alone: cursor writes -------------------------------------------------------


class Recorder:
    """An event handler that records, and can hold an event until released."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.hold: asyncio.Event | None = None
        self.holding = asyncio.Event()
        self._changed = asyncio.Condition()

    async def __call__(self, event: Event) -> None:
        if self.hold is not None:
            self.holding.set()
            await self.hold.wait()
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait(self, count: int) -> None:
        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.events) >= count)

        await asyncio.wait_for(_wait(), WAIT)


@pytest_asyncio.fixture
async def store(database: Database) -> AsyncIterator[FlakyStore]:
    engine = database.engine()
    migrate(engine)
    yield FlakyStore(make_session_factory(engine), PLATFORM)
    engine.dispose()


def _platform(fake: FakeRocketChat, store: CursorStore, **options: Any) -> RocketChatPlatform:
    settings = RocketChatSettings(server_url=fake.url, username=BOT)
    return RocketChatPlatform(settings, password=PASSWORD, cursors=store, **options)


@pytest.mark.asyncio
async def test_cursor_writes_are_throttled_and_the_last_one_is_written_at_stop(
    no_leftover_tasks: None, fake: FakeRocketChat, store: FlakyStore
) -> None:
    general = fake.room("general")
    platform = _platform(fake, store, cursor_flush_interval=3600)
    recorder = Recorder()
    await platform.start(recorder)
    try:
        assert platform.stats.cursor_writes == 1  # at start: this run is running
        said = [fake.say("alice", general, f"!commande {i}") for i in range(5)]
        await recorder.wait(5)
        # The first message handled is written at once; the others wait for the interval.
        await fake.wait_for(lambda: platform.stats.cursor_writes == 2, WAIT)
        assert store.load()[general.id].message_id in {m["_id"] for m in said}
    finally:
        await platform.stop()
    assert platform.stats.cursor_writes == 3
    assert store.load()[general.id].message_id == said[-1]["_id"]


@pytest.mark.asyncio
async def test_a_failed_cursor_write_is_tried_again(
    no_leftover_tasks: None, fake: FakeRocketChat, store: FlakyStore
) -> None:
    general = fake.room("general")
    store.failing = 1
    refused = _platform(fake, store)
    with pytest.raises(RocketChatError, match="platform's state"):
        await refused.start(Recorder())  # nothing is handled without a place to record it
    assert fake.requests["logout"] == 1  # and the session it opened is closed

    platform = _platform(fake, store, cursor_flush_interval=0.01)
    recorder = Recorder()
    await platform.start(recorder)
    store.failing = 2
    try:
        said = fake.say("alice", general, "!aide")
        await recorder.wait(1)
        await fake.wait_for(lambda: store.load().get(general.id) == position(fake, said), WAIT)
        assert store.failing == 0
    finally:
        await platform.stop()


@pytest.mark.asyncio
async def test_stop_lets_the_message_in_hand_finish_and_records_it(
    no_leftover_tasks: None, fake: FakeRocketChat, store: FlakyStore
) -> None:
    general = fake.room("general")
    platform = _platform(fake, store)
    recorder = Recorder()
    recorder.hold = asyncio.Event()
    await platform.start(recorder)
    said = fake.say("alice", general, "!longue commande")
    await asyncio.wait_for(recorder.holding.wait(), WAIT)
    stopping = asyncio.create_task(platform.stop())
    await fake.wait_for(lambda: fake.live_connections == 0, WAIT)  # no longer listening...
    assert not stopping.done()  # ... but still handling the message
    recorder.hold.set()
    await asyncio.wait_for(stopping, WAIT)
    assert len(recorder.events) == 1
    assert store.load()[general.id].message_id == said["_id"]


def _texts(events: list[Event]) -> list[str]:
    out = []
    for event in events:
        if isinstance(event, CommandEvent):
            out.append(event.text)
        elif isinstance(event, ReactionEvent):
            out.append(f"{event.emoji} {'added' if event.added else 'removed'}")
    return out


@pytest.mark.asyncio
async def test_after_a_quick_restart_nothing_handled_before_runs_again(
    no_leftover_tasks: None, fake: FakeRocketChat, store: FlakyStore
) -> None:
    """A restart within the start-up tolerance: the messages handled just before it are newer
    than where the new run starts listening, but older than the stored cursor. Edited, they do
    not run again; the reaction already counted on the last one is not counted again when the
    catch-up reads that message back. (An update of that message pushed later reports its
    reactions once more: the state before a restart is not kept, see the module docstring.)"""
    general = fake.room("general")
    first, before = _platform(fake, store), Recorder()
    await first.start(before)
    try:
        one = fake.say("alice", general, "!un")
        two = fake.say("alice", general, "!deux")
        await before.wait(2)
        fake.react("camille", two["_id"], ":star:")
        await before.wait(3)
    finally:
        await first.stop()
    assert _texts(before.events) == ["un", "deux", ":star: added"]

    second, after = _platform(fake, store), Recorder()
    await second.start(after)
    try:
        fake.edit("alice", one["_id"], "!un modifié")
        fake.say("alice", general, "!trois")
        await after.wait(1)
    finally:
        await second.stop()
    assert _texts(after.events) == ["trois"]
