"""The DDP client against the fake Rocket.Chat realtime API, over loopback."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.platforms.rocketchat.realtime import DDPClient, DDPError
from tests.fakes.rocketchat import FakeRocketChat


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeRocketChat]:
    server = FakeRocketChat()
    await server.start()
    server.add_user("bot", password="pw", roles=("bot",), bot=True)
    server.add_user("alice")
    server.add_room("general", members=["bot", "alice"])
    try:
        yield server
    finally:
        await server.close()


def ws_url(fake: FakeRocketChat) -> str:
    return fake.url.replace("http://", "ws://") + "/websocket"


@pytest.mark.asyncio
async def test_methods_subscriptions_and_their_errors(fake: FakeRocketChat) -> None:
    token = fake.personal_access_token("bot")
    client = DDPClient(ws_url(fake))
    await client.start()
    try:
        with pytest.raises(DDPError) as not_logged:
            await client.subscribe("stream-room-messages", "__my_messages__", False)
        assert not_logged.value.error == "not-allowed"
        with pytest.raises(DDPError) as bad_login:
            await client.call("login", {"resume": "nope"})
        assert bad_login.value.error == 403
        result = await client.call("login", {"resume": token})
        assert result["id"] == fake.user("bot").id
        with pytest.raises(DDPError) as unknown:
            await client.call("noSuchMethod")
        assert unknown.value.error == 404
        with pytest.raises(DDPError) as no_sub:
            await client.subscribe("no-such-stream")
        assert no_sub.value.error == 404
    finally:
        await client.close()
    assert not client.connected


@pytest.mark.asyncio
async def test_a_refused_first_session_is_raised(fake: FakeRocketChat) -> None:
    async def login(client: DDPClient) -> None:
        await client.call("login", {"resume": "expired"})

    client = DDPClient(ws_url(fake), on_session=login)
    with pytest.raises(DDPError):
        await client.start()


@pytest.mark.asyncio
async def test_reconnects_logs_in_again_and_resubscribes(fake: FakeRocketChat) -> None:
    token = fake.personal_access_token("bot")
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    reconnected = asyncio.Event()
    disconnections = []

    async def login(client: DDPClient) -> None:
        await client.call("login", {"resume": token})

    async def on_reconnected() -> None:
        reconnected.set()

    def listener(kind: str, collection: str, _id: str, fields: dict[str, Any]) -> None:
        if collection == "stream-room-messages":
            received.put_nowait(fields["args"][0])

    client = DDPClient(
        ws_url(fake),
        listener=listener,
        on_session=login,
        on_reconnected=on_reconnected,
        on_disconnected=lambda: disconnections.append(1),
        backoff_min=0.02,
        backoff_max=0.1,
    )
    await client.start()
    try:
        await client.subscribe("stream-room-messages", "__my_messages__", False)
        fake.say("alice", fake.room("general"), "avant")
        assert (await asyncio.wait_for(received.get(), 5))["msg"] == "avant"
        await fake.drop_websockets(refuse=True)
        await fake.wait_for(lambda: client.last_delays, within=5)  # it is retrying
        fake.accept_websockets()
        await asyncio.wait_for(reconnected.wait(), 5)
        fake.say("alice", fake.room("general"), "après")
        message = await asyncio.wait_for(received.get(), 5)
        assert message["msg"] == "après"
        assert message["ts"]["$date"] > 0  # EJSON dates
        assert client.connections == 2 and disconnections == [1]
        assert fake.ddp_logins == 2
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_a_subscription_ended_by_the_server_is_renewed(fake: FakeRocketChat) -> None:
    token = fake.personal_access_token("bot")
    received: asyncio.Queue[str] = asyncio.Queue()

    async def login(client: DDPClient) -> None:
        await client.call("login", {"resume": token})

    def listener(kind: str, collection: str, _id: str, fields: dict[str, Any]) -> None:
        received.put_nowait(fields["args"][0]["msg"])

    client = DDPClient(
        ws_url(fake), listener=listener, on_session=login, backoff_min=0.02, backoff_max=0.1
    )
    await client.start()
    try:
        await client.subscribe("stream-room-messages", "__my_messages__", False)
        assert fake.end_subscriptions() == 1
        await fake.wait_for(lambda: client.connections == 2 and fake.live_connections == 1)
        fake.say("alice", fake.room("general"), "encore là")
        assert await asyncio.wait_for(received.get(), 5) == "encore là"
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_pings_the_server_when_quiet(fake: FakeRocketChat) -> None:
    client = DDPClient(ws_url(fake), ping_interval=0.05, pong_timeout=1.0)
    await client.start()
    try:
        await fake.wait_for(lambda: fake.pings_received >= 3, within=5)
        assert client.connections == 1  # every ping was answered: no reconnection
    finally:
        await client.close()


def test_backoff_is_exponential_with_full_jitter() -> None:
    client = DDPClient(
        "ws://127.0.0.1:1/websocket", backoff_min=0.5, backoff_max=8.0, rng=random.Random(7)
    )
    delays = [client._delay(attempt) for attempt in range(10)]
    for attempt, delay in enumerate(delays):
        ceiling = min(8.0, 0.5 * 2**attempt)
        assert max(0.5, ceiling / 2) <= delay <= ceiling
    assert len(set(delays[1:])) == len(delays[1:])  # jittered, not a fixed ladder
    assert max(delays) > 2.0  # and it grows
