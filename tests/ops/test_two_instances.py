"""Two real ``tisserand run`` processes on one database (SQLite file, PostgreSQL schema), against
the fake Rocket.Chat: one is active, the other stands by naming the holder; a message due while
both run is posted once; the holder killed with SIGKILL, the other takes over and posts what was
pending, once; a holder that loses its lease stops with exit status 4."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text

from bot.core import PlaceTarget, Reply
from bot.outbox import enqueue
from bot.storage.engine import make_engine, make_session_factory, migrate
from tests.conftest import Database
from tests.fakes.rocketchat import FakeRocketChat
from tests.platforms.conftest import CHANNEL, RC_BOT, RC_PASSWORD

WAIT = 30.0
TISSERAND = shutil.which("tisserand") or str(Path(sys.executable).with_name("tisserand"))


@dataclass
class Instance:
    name: str
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @property
    def standing_by(self) -> bool:
        return any("stands by" in line for line in self.lines)


async def _start(name: str, config: Path, tmp_path: Path) -> Instance:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TISSERAND_")}
    env.update(
        LANG="en_US.UTF-8",
        TISSERAND_CONFIG=str(config),
        TISSERAND_ROCKETCHAT_PASSWORD=RC_PASSWORD,
    )
    process = await asyncio.create_subprocess_exec(
        TISSERAND,
        "-v",
        "run",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    instance = Instance(name, process)

    async def read() -> None:
        assert process.stderr is not None
        async for raw in process.stderr:
            instance.lines.append(raw.decode(errors="replace"))

    instance.reader = asyncio.create_task(read())
    return instance


async def _until(condition: Callable[[], object], *instances: Instance) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not condition():
        assert loop.time() < deadline, "never happened:\n" + "\n".join(
            f"{i.name}: {''.join(i.lines)}" for i in instances
        )
        await asyncio.sleep(0.05)


async def _end(instance: Instance) -> int:
    if instance.process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            instance.process.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.wait_for(instance.process.wait(), WAIT)
    except TimeoutError:
        instance.process.kill()
        code = await instance.process.wait()
    if instance.reader is not None:
        await instance.reader
    return code


@pytest_asyncio.fixture
async def rocketchat() -> AsyncIterator[FakeRocketChat]:
    server = FakeRocketChat(full_user_info_roles=("admin", "bot"))
    await server.start()
    try:
        server.add_user(
            RC_BOT, password=RC_PASSWORD, name="Tisserand", roles=("user", "bot"), bot=True
        )
        server.add_user("alice", password="a", name="Alice")
        server.add_room(CHANNEL, members=[RC_BOT, "alice"])
        yield server
    finally:
        await server.close()


def _config(tmp_path: Path, database: Database, rocketchat: FakeRocketChat) -> Path:
    path = tmp_path / "tisserand.toml"
    path.write_text(
        f"data_dir = {str(tmp_path / 'data')!r}\n"
        f"database_url = {database.url!r}\n"
        "[lease]\npoll_seconds = 0.2\n"
        f"[rocketchat]\nserver_url = {rocketchat.url!r}\nusername = {RC_BOT!r}\n"
        f"channels = [{CHANNEL!r}]\n",
        encoding="utf-8",
    )
    return path


def _announce(database: Database, room_id: str, key: str, message: str) -> None:
    engine = make_engine(database.url)
    migrate(engine)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as db:
        enqueue(
            db,
            key=key,
            reply=Reply(text=message),
            target=PlaceTarget("rocketchat", room_id),
            due_at=now,
            now=now,
        )
        db.commit()
    engine.dispose()


def _posted(rocketchat: FakeRocketChat, message: str) -> int:
    return sum(1 for m in rocketchat.messages_in(rocketchat.room(CHANNEL)) if m["msg"] == message)


@pytest.mark.asyncio
async def test_one_instance_is_active_the_other_takes_over_when_it_is_killed(
    database: Database, rocketchat: FakeRocketChat, tmp_path: Path
) -> None:
    room = rocketchat.room(CHANNEL).id
    _announce(database, room, "test:first", "Première annonce")
    config = _config(tmp_path, database, rocketchat)
    first, second = await asyncio.gather(
        _start("a", config, tmp_path), _start("b", config, tmp_path)
    )
    instances = (first, second)
    try:
        await _until(lambda: first.standing_by or second.standing_by, *instances)
        standby = first if first.standing_by else second
        active = second if standby is first else first
        assert "process" in "".join(standby.lines) and str(active.process.pid) in "".join(
            standby.lines
        ), standby.lines
        await _until(lambda: _posted(rocketchat, "Première annonce") == 1, *instances)
        assert rocketchat.ddp_logins == 1  # the standby never connected
        assert active.process.returncode is None and standby.process.returncode is None

        _announce(database, room, "test:second", "Deuxième annonce")  # pending for now
        active.process.kill()
        assert await active.process.wait() == -signal.SIGKILL
        await _until(lambda: _posted(rocketchat, "Deuxième annonce") == 1, *instances)
        await _until(lambda: any("now active" in line for line in standby.lines), *instances)
        assert rocketchat.ddp_logins == 2
        await asyncio.sleep(0.5)
        assert _posted(rocketchat, "Première annonce") == 1
        assert _posted(rocketchat, "Deuxième annonce") == 1
        assert await _end(standby) == 0
    finally:
        for instance in instances:
            await _end(instance)


def _break_lease(database: Database) -> None:
    if database.kind == "sqlite":
        assert database.url.startswith("sqlite:///")
        Path(database.url.removeprefix("sqlite:///") + ".lease").unlink()
        return
    engine = database.engine()
    with engine.begin() as conn:
        killed = conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                "application_name LIKE 'tisserand-lease %' AND datname = current_database()"
            )
        ).all()
    engine.dispose()
    assert killed


@pytest.mark.asyncio
async def test_a_lost_lease_stops_the_platforms_with_exit_status_4(
    database: Database, rocketchat: FakeRocketChat, tmp_path: Path
) -> None:
    config = _config(tmp_path, database, rocketchat)
    active = await _start("a", config, tmp_path)
    try:
        await _until(lambda: rocketchat.live_connections == 1, active)
        standby = await _start("b", config, tmp_path)
        await _until(lambda: standby.standing_by, active, standby)
        _break_lease(database)
        assert await asyncio.wait_for(active.process.wait(), WAIT) == 4
        await active.reader  # type: ignore[misc]
        assert any("lost the database's lease" in line for line in active.lines), active.lines
        assert not any("Traceback" in line for line in active.lines), active.lines
        await _until(lambda: any("now active" in line for line in standby.lines), standby)
        assert await _end(standby) == 0
    finally:
        await _end(active)
        with contextlib.suppress(NameError):
            await _end(standby)
