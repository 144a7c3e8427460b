"""While /partager or /veille ajouter waits for a slow site, other members are answered.

Both commands commit the dispatcher's transaction before they fetch. Were they to keep it open,
on SQLite (every transaction takes the write lock) another command would wait in the driver's
busy loop, holding up the event loop itself, so the slow site could never be released; on
PostgreSQL the other command, the first in a new channel, would wait on the uncommitted insert
of that channel's row. The engines here wait 5 s for a lock at most, so such a regression fails
instead of hanging.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy.engine import Engine

from bot.core import CommandEvent
from bot.storage.engine import migrate
from tests.commands.veille.test_veille import (  # noqa: F401 - veille_chat is a fixture
    FEED,
    START,
    VeilleChat,
    veille_chat,
)
from tests.conftest import Database
from tests.support.chat import place

PAGE = (
    "<!doctype html><html><head><title>Étude</title>"
    '<meta property="og:title" content="Mobilités rurales"></head></html>'
)


@dataclass
class SlowSite:
    base: str = ""
    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@pytest_asyncio.fixture
async def slow_site() -> AsyncIterator[SlowSite]:
    state = SlowSite()

    async def slow(request: web.Request) -> web.Response:
        state.started.set()
        await state.release.wait()
        if request.path == "/feed":
            return web.Response(text=FEED, content_type="application/rss+xml")
        return web.Response(text=PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", slow)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    state.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


@pytest.fixture
def impatient_engine(database: Database) -> Iterator[Engine]:
    """A migrated engine that waits 5 s for a lock, not 30 s (SQLite) or forever (PostgreSQL)."""
    if database.kind == "sqlite":
        engine = database.engine(busy_timeout_ms=5_000)
    else:
        engine = database.engine(
            connect_args={"options": f"-csearch_path={database.schema} -clock_timeout=5000"}
        )
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    ("command", "waiting_answer", "final_answer"),
    [
        (
            "/partager {base}/etude Utile",
            "Aucun flux n'est encore suivi pour #reseau",
            "Merci ! « Mobilités rurales » sera dans la veille de #reseau",
        ),
        (
            "/veille ajouter {base}/feed",
            "Aucun flux n'est encore suivi pour #reseau",
            "Source n° 1 ajoutée pour #reseau : « Cerema actus ».",
        ),
    ],
    ids=["partager", "veille-ajouter"],
)
@pytest.mark.asyncio
async def test_another_member_is_answered_while_a_command_waits_for_a_slow_site(
    impatient_engine: Engine,
    slow_site: SlowSite,
    veille_chat: VeilleChat,  # noqa: F811
    command: str,
    waiting_answer: str,
    final_answer: str,
) -> None:
    chat = await veille_chat(engine=impatient_engine)

    def event(user: str, text: str) -> CommandEvent:
        return CommandEvent(actor=chat.actor(user), place=place("reseau"), at=START, text=text)

    # The first command ever seen in this channel, by a coordinator: it waits for the site.
    slow = asyncio.create_task(
        chat.app.process(event("camille", command.format(base=slow_site.base)))
    )
    await slow_site.started.wait()

    # Meanwhile another member, new too, asks something in the same channel: answered at once.
    other = await chat.app.process(event("bob", "/veille liste"))
    assert other.error_id is None, other
    (reply,) = other.replies
    assert waiting_answer in reply.text
    assert not slow.done()  # the first command is still waiting for the site

    slow_site.release.set()
    outcome = await slow
    assert outcome.error_id is None, outcome
    (answer,) = outcome.replies
    assert final_answer in answer.text
