"""``[web]``: /healthz, /readyz and /metrics of ``run_platforms`` over a real socket, against the
fake Rocket.Chat; the metrics parsed with prometheus_client's own parser; a standby instance
(same database, same process, another port) is healthy but not ready; a port already taken
stops the start with the key at fault."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings, load_settings
from bot.core import PlaceTarget, Reply
from bot.outbox import enqueue
from bot.runner import run_platforms
from bot.startup import StartError
from bot.storage.engine import make_engine, make_session_factory, migrate
from tests.conftest import Database
from tests.fakes.rocketchat import FakeRocketChat
from tests.platforms.conftest import CHANNEL, MEMBER_NAME, RC_BOT, RC_PASSWORD
from tests.support.smtp import SmtpServer, smtp_server

__all__ = ["smtp_server"]  # the fixture

WAIT = 15.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TISSERAND_ROCKETCHAT_TOKEN", raising=False)
    monkeypatch.setenv("TISSERAND_ROCKETCHAT_PASSWORD", RC_PASSWORD)


@pytest_asyncio.fixture
async def rocketchat() -> AsyncIterator[FakeRocketChat]:
    server = FakeRocketChat(full_user_info_roles=("admin", "bot"))
    await server.start()
    try:
        server.add_user(
            RC_BOT, password=RC_PASSWORD, name="Tisserand", roles=("user", "bot"), bot=True
        )
        server.add_user(MEMBER_NAME, password="a", name="Alice")
        server.add_room(CHANNEL, members=[RC_BOT, MEMBER_NAME])
        yield server
    finally:
        await server.close()


def _settings(
    database: Database, tmp_path: Path, rc: FakeRocketChat, port: int, **more: Any
) -> Settings:
    return load_settings(
        None,
        database_url=database.url,
        environ={},
        overrides={
            "data_dir": str(tmp_path / "data"),
            "lease": {"poll_seconds": 0.1},
            "web": {"enabled": True, "port": port, **more.pop("web", {})},
            "rocketchat": {"server_url": rc.url, "username": RC_BOT, "channels": [CHANNEL]},
            **more,
        },
    )


async def _until(condition: Callable[[], Any], *running: asyncio.Task[None]) -> Any:
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        result = await condition()
        if result:
            return result
        for task in running:
            if task.done():
                task.result()
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.05)


async def _get(http: aiohttp.ClientSession, port: int, path: str) -> tuple[int, Any]:
    try:
        async with http.get(f"http://127.0.0.1:{port}{path}") as response:
            if path == "/metrics":
                return response.status, await response.text()
            return response.status, await response.json()
    except aiohttp.ClientConnectionError:
        return 0, None


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.asyncio
async def test_health_readiness_and_metrics_of_an_active_and_a_standby_instance(
    database: Database, rocketchat: FakeRocketChat, tmp_path: Path
) -> None:
    engine = make_engine(database.url)
    migrate(engine)
    now = datetime.now(UTC)
    with make_session_factory(engine)() as db:  # one sent at start, one due in a day
        for key, due in (("a", now), ("b", now + timedelta(days=1))):
            enqueue(
                db,
                key=f"test:{key}",
                reply=Reply(text=f"annonce {key}"),
                target=PlaceTarget("rocketchat", rocketchat.room(CHANNEL).id),
                due_at=due,
                now=now,
            )
        db.commit()
    engine.dispose()
    port, standby_port = _free_port(), _free_port()
    stop, stop_standby = asyncio.Event(), asyncio.Event()
    active = asyncio.create_task(
        run_platforms(_settings(database, tmp_path, rocketchat, port), stop=stop)
    )
    standby: asyncio.Task[None] | None = None
    async with aiohttp.ClientSession() as http:
        try:

            async def ready() -> Any:
                status, body = await _get(http, port, "/readyz")
                return body if status == 200 else None

            body = await _until(ready, active)
            assert body == {
                "ready": True,
                "database": True,
                "lease": True,
                "scheduler": True,
                "platforms": {"rocketchat": True},
            }
            assert await _get(http, port, "/healthz") == (
                200,
                {"status": "ok", "active": True, "scheduler": True},
            )
            rocketchat.say(MEMBER_NAME, rocketchat.room(CHANNEL), "!aide")

            async def scraped() -> Any:
                status, text = await _get(http, port, "/metrics")
                assert status == 200
                samples = _samples(text)
                key = ("tisserand_events_total", (("kind", "command"), ("platform", "rocketchat")))
                return samples if samples.get(key) == 1 else None

            samples = await _until(scraped, active)
            assert samples[("tisserand_platform_connected", (("platform", "rocketchat"),))] == 1
            assert samples[("tisserand_lease_held", ())] == 1
            assert samples[("tisserand_outbox_messages", (("status", "sent"),))] == 1
            assert samples[("tisserand_outbox_messages", (("status", "pending"),))] == 1
            assert samples[("tisserand_outbox_oldest_pending_age_seconds", ())] == 0
            assert (
                samples[("tisserand_command_duration_seconds_count", (("platform", "rocketchat"),))]
                == 1
            )
            assert (
                samples[("tisserand_scheduled_work_duration_seconds_count", (("work", "outbox"),))]
                >= 1
            )

            standby = asyncio.create_task(
                run_platforms(
                    _settings(database, tmp_path, rocketchat, standby_port), stop=stop_standby
                )
            )

            async def standing_by() -> Any:
                status, body = await _get(http, standby_port, "/readyz")
                return body if status == 503 else None

            body = await _until(standing_by, active, standby)
            assert body["lease"] is False and body["ready"] is False
            assert body["platforms"] == {"rocketchat": False}
            status, health = await _get(http, standby_port, "/healthz")
            assert (status, health["active"]) == (200, False)
            status, text = await _get(http, standby_port, "/metrics")
            assert _samples(text)[("tisserand_lease_held", ())] == 0
        finally:
            stop.set()
            stop_standby.set()
            await asyncio.wait_for(active, WAIT)
            if standby is not None:
                await asyncio.wait_for(standby, WAIT)


@pytest.mark.asyncio
async def test_a_port_already_taken_is_named(
    database: Database, rocketchat: FakeRocketChat, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StartError) as caught:
            await run_platforms(_settings(database, tmp_path, rocketchat, port))
    assert caught.value.problems[0][0] == "web.port"
    assert str(port) in caught.value.problems[0][1]
    assert rocketchat.ddp_logins == 0


@pytest.mark.asyncio
async def test_the_one_click_unsubscribe_of_a_running_bot(
    database: Database, rocketchat: FakeRocketChat, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    """``run_platforms`` wires the mailing family's removal into its server: GET asks, POST
    removes, the goodbye email leaves through the running outbox."""
    from bot.mail import new_token, subscriber_by_token
    from bot.storage.email import EmailSubscriber

    engine = make_engine(database.url)
    migrate(engine)
    now = datetime.now(UTC)
    token = new_token()
    with make_session_factory(engine).begin() as db:
        db.add(
            EmailSubscriber(
                address="elue@mairie.example.fr",
                name="Élue",
                confirmed_at=now,
                basis="added by the test",
                unsubscribe_token=token,
                created_at=now,
                updated_at=now,
            )
        )
    port = _free_port()
    settings = _settings(
        database,
        tmp_path,
        rocketchat,
        port,
        web={"public_url": "https://tisserand.example.org"},
        email=smtp_server.settings(),
    )
    stop = asyncio.Event()
    active = asyncio.create_task(run_platforms(settings, stop=stop))
    url = f"http://127.0.0.1:{port}/unsubscribe/{token}"
    async with aiohttp.ClientSession() as http:
        try:

            async def ready() -> Any:
                status, _body = await _get(http, port, "/readyz")
                return status == 200

            await _until(ready, active)
            async with http.get(url) as response:
                assert response.status == 200
                assert "elue@mairie.example.fr" in await response.text()
            with make_session_factory(engine)() as db:
                assert subscriber_by_token(db, token) is not None  # GET changed nothing
            async with http.post(url, data={"List-Unsubscribe": "One-Click"}) as response:
                assert response.status == 200
                assert "retirée" in await response.text()

            async def confirmed() -> Any:
                return smtp_server.recorder.to("elue@mairie.example.fr")

            (goodbye,) = await _until(confirmed, active)
            assert "retirée" in goodbye["Subject"]
            with make_session_factory(engine)() as db:
                assert subscriber_by_token(db, token) is None
        finally:
            stop.set()
            await asyncio.wait_for(active, WAIT)
            engine.dispose()
