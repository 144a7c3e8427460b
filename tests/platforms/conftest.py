"""Populated fake chat servers shared by the scenario and the run tests.

Both worlds hold the same people: ``alice`` (a member) and ``camille`` (a coordinator: role
``coordinator`` on Rocket.Chat, role ``Coordination`` on Discord), and a channel ``general``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest_asyncio
from aiohttp import web

from tests.fakes.discord import FakeDiscord
from tests.fakes.rocketchat import FakeRocketChat

RC_BOT = "tisserand"
RC_PASSWORD = "s3cret-du-bot"
DISCORD_TOKEN = "scenario-bot-token"
MEMBER_NAME = "alice"
COORDINATOR_NAME = "camille"
CHANNEL = "general"


@pytest_asyncio.fixture
async def rocketchat_server() -> AsyncIterator[FakeRocketChat]:
    """A fake Rocket.Chat whose bot user has the ``bot`` role (no REST rate limit) and may read
    other users' roles (``view-full-other-user-info`` granted to ``bot``)."""
    server = FakeRocketChat(full_user_info_roles=("admin", "bot"))
    await server.start()
    try:
        server.add_user(
            RC_BOT, password=RC_PASSWORD, name="Tisserand", roles=("user", "bot"), bot=True
        )
        server.add_user(MEMBER_NAME, password="a", name="Alice")
        server.add_user(
            COORDINATOR_NAME, password="c", name="Camille", roles=("user", "coordinator")
        )
        server.add_room(CHANNEL, members=[RC_BOT, MEMBER_NAME, COORDINATOR_NAME])
        yield server
    finally:
        await server.close()


@pytest_asyncio.fixture
async def discord_server() -> AsyncIterator[FakeDiscord]:
    """A fake Discord with one server ("guild"), its ``Coordination`` role and ``#general``."""
    async with FakeDiscord(token=DISCORD_TOKEN) as fake:
        guild = fake.add_guild("Réseau ville durable")
        coordination = fake.add_role(guild, "Coordination")
        fake.add_channel(guild, CHANNEL)
        member = fake.add_user(MEMBER_NAME, global_name="Alice")
        coordinator = fake.add_user(COORDINATOR_NAME, global_name="Camille")
        fake.add_member(guild, member)
        fake.add_member(guild, coordinator, [coordination])
        yield fake


@pytest_asyncio.fixture
async def no_leftover_tasks() -> AsyncIterator[None]:
    """Request it first: after every other fixture is torn down, no task may be left pending."""
    yield
    for _ in range(5):
        await asyncio.sleep(0)
    current = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert left == [], f"tasks still pending: {left}"


@dataclass
class WebPages:
    """A web server on loopback serving HTML pages by path (for shared links and feeds)."""

    port: int = 0
    pages: dict[str, str] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def serve(self, request: web.Request) -> web.Response:
        self.requested.append(request.path)
        page = self.pages.get(request.path)
        if page is None:
            return web.Response(status=404, text="no such page")
        return web.Response(text=page, content_type="text/html", charset="utf-8")


@pytest_asyncio.fixture
async def web_pages() -> AsyncIterator[WebPages]:
    """Pages on 127.0.0.1 (the bot reaches them with ``[feeds] allow_private_networks``)."""
    pages = WebPages()
    app = web.Application()
    app.router.add_get("/{tail:.*}", pages.serve)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    pages.port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        yield pages
    finally:
        await runner.cleanup()
