"""Hostile feeds and filters on the interactive path (/veille ajouter): the bot keeps answering
everyone, and the command gets its answer instead of a time-out.

- ``/(a+)+$/`` backtracks exponentially in Python's ``re`` on a title made of ``a``; parsed in
  a thread, the match held the GIL and froze the whole bot. Filters now run on RE2 (linear).
- A description nesting 100,000 ``<div>`` took nh3 half a minute (html5ever is quadratic in
  the depth); it is flattened first.
- An entity bomb in UTF-16 passed the raw-bytes "no DTD" check, for an OPML import as for a
  feed; it gets the usual refusal.

Both are checked with the parse in a thread (``parse_processes = 0``, the tests' setting) and,
for the filter, in the interactive worker process too.
"""

from __future__ import annotations

import asyncio
import html
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

import commands.help as help_commands
import commands.veille as veille
from bot.app import App
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.core import Actor, Attachment, CommandEvent, Place, Role
from bot.storage.veille import FeedSource
from commands.veille.interactive import MAX_PROCESSES, SERVICE, interactive_parser
from tests.commands.veille.test_veille import START

A_TITLES = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Que des a</title>'
    + f"<item><title>{'a' * 30}</title><link>https://a.example/1</link>"
    + "<description>b</description></item></channel></rss>"
)
DEEP = "<div>" * 100_000 + "Au fond." + "</div>" * 100_000
DEEP_FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Profond</title>'
    "<item><title>Une entrée</title><link>https://deep.example/1</link>"
    f"<description>{html.escape(DEEP)}</description></item></channel></rss>"
)


@dataclass
class Site:
    base: str = ""
    served: asyncio.Event = field(default_factory=asyncio.Event)
    bodies: dict[str, str | bytes] = field(default_factory=dict)


@pytest_asyncio.fixture
async def site() -> AsyncIterator[Site]:
    state = Site()

    async def serve(request: web.Request) -> web.Response:
        body = state.bodies.get(request.path)
        if body is None:
            return web.Response(status=404, text="no")
        state.served.set()
        if isinstance(body, bytes):
            return web.Response(body=body, content_type="application/rss+xml")
        return web.Response(text=body, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    state.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield state
    finally:
        await runner.cleanup()


def _app(engine: Engine, processes: int, timeout: float = 30) -> App:
    settings = load_settings(
        None,
        environ={},
        overrides={
            "feeds": {
                "allow_private_networks": True,
                "parse_processes": processes,
                "parse_timeout_seconds": timeout,
            }
        },
    )
    return App(
        settings,
        clock=FrozenClock(START),
        engine=engine,
        families=[help_commands.FAMILY, veille.FAMILY],
    )


def _event(user: str, text: str, attachments: tuple[Attachment, ...] = ()) -> CommandEvent:
    roles = {Role.MEMBER} | ({Role.COORDINATOR} if user == "camille" else set())
    actor = Actor("console", user, user.capitalize(), roles=frozenset(roles))
    place = Place("console", "reseau", "reseau")
    return CommandEvent(actor=actor, place=place, at=START, text=text, attachments=attachments)


BOMB_DTD = '<!DOCTYPE {root} [<!ENTITY a "' + "x" * 1_000 + '">]>'


def _utf16(document: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-16"?>' + document).encode("utf-16")


@pytest.mark.asyncio
@pytest.mark.parametrize("processes", [0, 1], ids=["thread", "process"])
async def test_a_catastrophic_filter_neither_freezes_the_bot_nor_times_out(
    engine: Engine, site: Site, processes: int
) -> None:
    site.bodies["/a"] = A_TITLES
    app = _app(engine, processes)
    try:
        command = f'/veille ajouter {site.base}/a --filtre "/(a+)+$/"'
        adding = asyncio.create_task(app.process(_event("camille", command)))
        await site.served.wait()  # the feed is being read and checked from now on

        # Another member asks for help meanwhile: answered, whatever the filter does.
        helped = await app.process(_event("bob", "/aide"))
        assert helped.error_id is None and helped.replies, helped
        assert "les commandes à votre disposition" in helped.replies[0].text

        outcome = await adding
        assert outcome.error_id is None, outcome
        (answer,) = outcome.replies
        assert "Source n° 1 ajoutée pour #reseau" in answer.text, answer.text
        assert "Seuls les articles correspondant à « /(a+)+$/ » sont gardés." in answer.text
    finally:
        await app.stop()


@pytest.mark.asyncio
async def test_a_description_nested_100000_deep_is_read_at_once(engine: Engine, site: Site) -> None:
    site.bodies["/deep"] = DEEP_FEED
    app = _app(engine, 0, timeout=10)
    try:
        outcome = await app.process(_event("camille", f"/veille ajouter {site.base}/deep"))
        assert outcome.error_id is None, outcome
        (answer,) = outcome.replies
        assert "Source n° 1 ajoutée pour #reseau" in answer.text, answer.text
        assert "1 article trouvé" in answer.text, answer.text
    finally:
        await app.stop()


@pytest.mark.asyncio
async def test_filters_that_re2_refuses_are_explained(engine: Engine, site: Site) -> None:
    app = _app(engine, 0)
    cases = {
        "/(?<!Paris )vélo/": "assertion avant ou arrière",
        "/(vélo) et \\1/": "renvoie à un groupe",
        "/(?>vélo)/": "groupe atomique",
        "/vélo++/": "quantificateur possessif",
        "/(x{500}){500}/": "trop gros une fois compilé",
        "/(/": "n'est pas valide",
    }
    try:
        for pattern, expected in cases.items():
            command = f'/veille ajouter {site.base}/a --filtre "{pattern}"'
            outcome = await app.process(_event("camille", command))
            (answer,) = outcome.replies
            assert expected in answer.text, (pattern, answer.text)
            assert f"« {pattern} »" in answer.text
        assert not site.served.is_set()  # refused before anything is fetched
    finally:
        await app.stop()


def test_the_interactive_parser_is_made_once_with_at_most_two_workers() -> None:
    settings = load_settings(None, environ={}, overrides={"feeds": {"parse_processes": 8}})
    services: dict[str, object] = {}
    parser = interactive_parser(services, settings)
    assert services[SERVICE] is parser and interactive_parser(services, settings) is parser
    assert parser.processes == MAX_PROCESSES
    assert parser.timeout == settings.feeds.parse_timeout_seconds
    threads = load_settings(None, environ={}, overrides={"feeds": {"parse_processes": 0}})
    assert interactive_parser({}, threads).processes == 0
    parser.close()


@pytest.mark.asyncio
async def test_utf16_entity_bombs_get_the_usual_refusals(engine: Engine, site: Site) -> None:
    opml = _utf16(
        BOMB_DTD.format(root="opml")
        + '<opml version="2.0"><body>'
        + "".join(
            f'<outline type="rss" text="&a;" xmlUrl="https://e.example/{n}"/>' for n in range(500)
        )
        + "</body></opml>"
    )
    feed = _utf16(
        BOMB_DTD.format(root="rss")
        + '<rss version="2.0"><channel><title>t</title><item><title>&a;</title>'
        + f"<link>https://e.example/1</link><description>{'&a;' * 5_000}</description>"
        + "</item></channel></rss>"
    )
    site.bodies["/bomb"] = feed
    app = _app(engine, 0)
    try:
        attached = (Attachment("bombe.opml", "text/x-opml", opml),)
        outcome = await app.process(_event("camille", "/veille importer", attached))
        (answer,) = outcome.replies
        assert "Ce n'est pas un fichier OPML que je sais lire" in answer.text, answer.text
        outcome = await app.process(_event("camille", f"/veille ajouter {site.base}/bomb"))
        (answer,) = outcome.replies
        assert "le flux déclare une DTD ou des entités" in answer.text, answer.text
        with app.sessions() as db:
            assert db.scalar(select(func.count()).select_from(FeedSource)) == 0
    finally:
        await app.stop()
