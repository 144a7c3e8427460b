"""/veille frequence (/watch interval): a source's own refresh interval, through the dispatcher,
and how the refresh honours it together with Cache-Control.

The network speaks English here: the French wording of these messages comes with the catalogs.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from bot.i18n import Translators
from commands.veille import refresh_all
from commands.veille.messages import interval_text
from tests.commands.veille.test_veille import (  # noqa: F401 - site and veille_chat are fixtures
    FEED,
    START,
    Handler,
    Site,
    VeilleChat,
    site,
    sources,
    veille_chat,
)
from tests.support.chat import only


def cached(body: str, max_age: int | None = None) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        headers = {"Cache-Control": f"max-age={max_age}"} if max_age is not None else {}
        return web.Response(text=body, content_type="application/rss+xml", headers=headers)

    return handler


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (15, "15 min"),
        (45, "45 min"),
        (60, "1 h"),
        (90, "1 h 30 min"),
        (365, "6 h 05 min"),
        (36 * 60, "36 h"),
        (24 * 60, "1 day"),
        (7 * 24 * 60, "7 days"),
    ],
)
def test_interval_text(minutes: int, text: str) -> None:
    t = Translators(ZoneInfo("Europe/Paris"), "en").get("en")
    assert interval_text(t, minutes) == text


@pytest.mark.asyncio
async def test_setting_showing_and_resetting_an_interval(
    veille_chat: VeilleChat,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    chat = await veille_chat(network={"locale": "en"})
    site.serve("/rss", FEED)
    only(await chat.command("camille", f"/veille ajouter {site.url('/rss')}"))
    (source,) = sources(chat)
    assert source.interval_minutes is None
    assert source.next_fetch_at == START + timedelta(hours=1)

    reply = only(await chat.command("camille", "/veille frequence 1 6h"))
    assert reply.ephemeral
    assert reply.text == (
        "Source n° 1 (“Cerema actus”) will now be fetched every 6 h. Next fetch: 23/11/2026 17:00."
    )
    (source,) = sources(chat)
    assert source.interval_minutes == 360
    assert source.next_fetch_at == START + timedelta(hours=6)  # from its last fetch
    listing = (only(await chat.command("bob", "/veille liste"))).text
    assert "interval: 6 h" in listing

    # The English alias, and the other spellings of a duration.
    for typed, minutes in (("1d", 1440), ("1j", 1440), ("30min", 30), ("1h30", 90)):
        only(await chat.command("camille", f"/watch interval 1 {typed}"))
        assert sources(chat)[0].interval_minutes == minutes, typed
    assert "interval: 1 h 30 min" in (only(await chat.command("camille", "/veille liste"))).text

    for word in ("defaut", "default", "Défaut"):
        reply = only(await chat.command("camille", f"/veille frequence 1 {word}"))
        assert reply.text.startswith(
            "Source n° 1 (“Cerema actus”) follows the network's interval again: every 1 h."
        )
        assert sources(chat)[0].interval_minutes is None
    assert "interval:" not in (only(await chat.command("camille", "/veille liste"))).text


@pytest.mark.asyncio
async def test_bad_intervals_change_nothing(veille_chat: VeilleChat, site: Site) -> None:  # noqa: F811
    chat = await veille_chat(network={"locale": "en"})
    site.serve("/rss", FEED)
    only(await chat.command("camille", f"/veille ajouter {site.url('/rss')}"))
    only(await chat.command("camille", "/veille frequence 1 2h"))
    cases = {
        "/veille frequence 9 6h": "There is no source n° 9. /watch list shows the sources",
        "/veille frequence 1 souvent": (
            "I cannot read “souvent” as an interval. Give a duration such as 30min, 6h or 1d, "
            "or “default” to go back to the network's interval (1 h)."
        ),
        "/veille frequence 1 90": "I cannot read “90” as an interval.",
        "/veille frequence 1 5min": (
            "“5min” is out of bounds: give an interval between 15 min and 7 days."
        ),
        "/veille frequence 1 14min": "“14min” is out of bounds",
        "/veille frequence 1 8j": "“8j” is out of bounds",
        "/veille frequence 1 2 semaines": "“2 semaines” is out of bounds",
        # the typed-input kernel (issue 16) names what is missing by its help, with an example
        "/veille frequence 1": "Something is missing: The time between two fetches",
    }
    for line, expected in cases.items():
        assert expected in (only(await chat.command("camille", line))).text, line
    assert "reserved" in (only(await chat.command("bob", "/veille frequence 1 6h"))).text.lower()
    (source,) = sources(chat)
    assert (source.interval_minutes, source.next_fetch_at) == (120, START + timedelta(hours=2))
    # The bounds themselves are accepted.
    only(await chat.command("camille", "/veille frequence 1 15min"))
    assert sources(chat)[0].interval_minutes == 15
    only(await chat.command("camille", "/veille frequence 1 7j"))
    assert sources(chat)[0].interval_minutes == 7 * 24 * 60
    only(await chat.command("camille", "/veille frequence 1 une semaine"))
    assert sources(chat)[0].interval_minutes == 7 * 24 * 60


@pytest.mark.asyncio
async def test_a_shorter_interval_can_make_a_source_due_at_once(
    veille_chat: VeilleChat,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    chat = await veille_chat(network={"locale": "en"})
    site.serve("/rss", FEED)
    only(await chat.command("camille", f"/veille ajouter {site.url('/rss')}"))
    only(await chat.command("camille", "/veille frequence 1 1j"))
    assert sources(chat)[0].next_fetch_at == START + timedelta(days=1)
    chat.clock.advance(timedelta(hours=2))
    reply = only(await chat.command("camille", "/veille frequence 1 30min"))
    (source,) = sources(chat)
    assert source.next_fetch_at == chat.clock.now()  # 30 min after its fetch is already past
    assert "will now be fetched every 30 min" in reply.text
    hits = len(site.hits)
    report = await refresh_all(chat.app)
    assert report.checked == 1 and len(site.hits) == hits + 1
    assert sources(chat)[0].next_fetch_at == chat.clock.now() + timedelta(minutes=30)


@pytest.mark.asyncio
async def test_a_failing_source_keeps_its_backoff(veille_chat: VeilleChat, site: Site) -> None:  # noqa: F811
    chat = await veille_chat(network={"locale": "en"})
    site.serve("/rss", FEED)
    only(await chat.command("camille", f"/veille ajouter {site.url('/rss')}"))
    site.serve("/rss", "oops", status=500, content_type="text/plain")
    chat.clock.advance(timedelta(hours=1))
    await refresh_all(chat.app)
    (source,) = sources(chat)
    assert source.failures == 1
    retry = source.next_fetch_at
    only(await chat.command("camille", "/veille frequence 1 3j"))
    (source,) = sources(chat)
    assert (source.interval_minutes, source.next_fetch_at) == (3 * 24 * 60, retry)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("interval", "max_age", "expected"),
    [
        ("6h", None, timedelta(hours=6)),  # the source's own interval
        ("6h", 3 * 3600, timedelta(hours=6)),  # the interval is later than max-age
        ("30min", 3 * 3600, timedelta(hours=3)),  # max-age is later than the interval
        ("2j", 3 * 86400, timedelta(days=2)),  # max-age counts for a day at most
        ("default", 3 * 86400, timedelta(days=1)),
        ("default", None, timedelta(hours=1)),  # [feeds] refresh_minutes
    ],
)
async def test_the_refresh_takes_the_later_of_interval_and_cache_control(
    veille_chat: VeilleChat,  # noqa: F811
    site: Site,  # noqa: F811
    interval: str,
    max_age: int | None,
    expected: timedelta,
) -> None:
    chat = await veille_chat(network={"locale": "en"})
    site.serve("/rss", FEED)
    only(await chat.command("camille", f"/veille ajouter {site.url('/rss')}"))
    only(await chat.command("camille", f"/veille frequence 1 {interval}"))
    site.routes["/rss"] = cached(FEED, max_age)
    chat.clock.advance(timedelta(days=8))
    report = await refresh_all(chat.app)
    assert report.updated == 1
    assert sources(chat)[0].next_fetch_at == chat.clock.now() + expected
