"""The periodic refresh (commands.veille.refresh) against a real local server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import random
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import FrozenClock
from bot.config import Settings, load_settings
from bot.core import Actor
from bot.storage.engine import make_session_factory, migrate
from bot.storage.members import upsert_member
from bot.storage.outbox import OutboxMessage
from bot.storage.veille import FeedEntry, FeedSource
from commands.veille.refresh import next_refresh_due, refresh_all
from commands.veille.store import add_source_row
from digests.feeds import FeedParser
from digests.fetcher import Fetcher, FetchPolicy
from tests.conftest import Database
from tests.digests.conftest import LocalServer

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def rss(*items: tuple[str, str], title: str = "Flux de test") -> str:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid></item>"
        for t, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://example.org/</link>{body}</channel></rss>"
    )


@dataclass
class Host:
    sessions: sessionmaker[Session]
    clock: FrozenClock
    settings: Settings
    coordinator_id: int = 0
    sources: dict[str, int] = field(default_factory=dict)

    def add(self, url: str, channel: str = "veille", **kwargs: Any) -> int:
        with self.sessions.begin() as db:
            source, created = add_source_row(
                db,
                platform="console",
                channel_id=channel,
                url=url,
                now=self.clock.now(),
                added_by=self.coordinator_id,
                **kwargs,
            )
            assert created
            return source.id

    def source(self, source_id: int) -> FeedSource:
        with self.sessions() as db:
            found = db.get(FeedSource, source_id)
            assert found is not None
            return found

    def entries(self, source_id: int | None = None) -> list[FeedEntry]:
        with self.sessions() as db:
            query = select(FeedEntry).order_by(FeedEntry.id)
            if source_id is not None:
                query = query.where(FeedEntry.source_id == source_id)
            return list(db.scalars(query))

    def outbox(self) -> list[OutboxMessage]:
        with self.sessions() as db:
            return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def make_host(engine: Engine, **feeds: Any) -> Host:
    settings = load_settings(
        None,
        environ={},
        overrides={
            "feeds": {"allow_private_networks": True, "parse_processes": 0, **feeds},
            "network": {"locale": "en"},
        },
    )
    sessions = make_session_factory(engine)
    host = Host(sessions, FrozenClock(NOW), settings)
    with sessions.begin() as db:
        member = upsert_member(db, Actor("console", "camille", "Camille"), NOW)
        host.coordinator_id = member.id
    return host


def text(body: str, status: int = 200, **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            text=body, status=status, headers=headers, content_type="application/rss+xml"
        )

    return handler


def conditional(body: str, etag: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(text=body, headers={"ETag": etag}, content_type="application/rss+xml")

    return handler


@pytest.mark.asyncio
async def test_conditional_get_stores_nothing_new_on_304(
    engine: Engine, local_server: LocalServer
) -> None:
    host = make_host(engine)
    local_server.route(
        "/feed",
        conditional(rss(("Un", "https://a.example/1"), ("Deux", "https://a.example/2")), '"e1"'),
    )
    source_id = host.add(local_server.url("/feed"))
    seen: list[tuple[int, int]] = []
    first = await refresh_all(host, progress=lambda done, total: seen.append((done, total)))
    assert (first.updated, first.new_entries, first.failed) == (1, 2, 0)
    assert seen == [(0, 1), (1, 1)]
    assert host.source(source_id).etag == '"e1"'
    assert host.source(source_id).next_fetch_at == NOW + timedelta(minutes=60)

    host.clock.advance(timedelta(hours=1))
    second = await refresh_all(host)
    assert (second.not_modified, second.new_entries) == (1, 0)
    assert local_server.requests[-1].headers["If-None-Match"] == '"e1"'
    assert len(host.entries()) == 2
    # Not due yet: nothing is fetched.
    third = await refresh_all(host)
    assert third.checked == 0 and len(local_server.requests) == 2


@pytest.mark.asyncio
async def test_a_changed_feed_adds_only_new_entries_and_cache_control_delays(
    engine: Engine, local_server: LocalServer
) -> None:
    host = make_host(engine)
    bodies = [
        rss(("Un", "https://a.example/1")),
        rss(("Deux", "https://a.example/2"), ("Un", "https://a.example/1")),
    ]

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            text=bodies.pop(0),
            content_type="application/rss+xml",
            headers={"Cache-Control": "max-age=10800"},
        )

    local_server.route("/feed", handler)
    source_id = host.add(local_server.url("/feed"))
    await refresh_all(host)
    assert host.source(source_id).next_fetch_at == NOW + timedelta(hours=3)
    host.clock.advance(timedelta(hours=3))
    report = await refresh_all(host)
    assert report.new_entries == 1
    assert [e.title for e in host.entries()] == ["Un", "Deux"]


@pytest.mark.asyncio
async def test_retry_after_in_seconds_and_as_a_date(
    engine: Engine, local_server: LocalServer
) -> None:
    host = make_host(engine)
    local_server.route("/slow-down", text("busy", status=429, **{"Retry-After": "7200"}))
    later = format_datetime(NOW + timedelta(hours=5), usegmt=True)
    local_server.route("/maintenance", text("down", status=503, **{"Retry-After": later}))
    first = host.add(local_server.url("/slow-down"))
    second = host.add(local_server.url("/maintenance"))
    report = await refresh_all(host, rng=random.Random(1))
    assert report.failed == 2
    assert sorted(code for _, code in report.errors) == ["rate_limited:429", "rate_limited:503"]
    assert host.source(first).next_fetch_at == NOW + timedelta(hours=2)
    assert host.source(second).next_fetch_at == NOW + timedelta(hours=5)
    assert host.source(first).last_error == "rate_limited:429"


@pytest.mark.asyncio
async def test_backoff_then_disable_with_a_note_to_the_coordinator(
    engine: Engine, local_server: LocalServer
) -> None:
    host = make_host(engine, max_failures=4, retry_base_minutes=10)
    local_server.route("/broken", text("oops", status=500))
    source_id = host.add(local_server.url("/broken"))
    delays = []
    for _ in range(3):
        await refresh_all(host, rng=random.Random(7))
        source = host.source(source_id)
        delays.append(source.next_fetch_at - host.clock.now())
        host.clock.move_to(source.next_fetch_at)
    # Equal jitter: between half and all of 10, 20, 40 minutes.
    for delay, full in zip(delays, (10, 20, 40), strict=True):
        assert timedelta(minutes=full / 2) <= delay <= timedelta(minutes=full)
    assert host.outbox() == []
    report = await refresh_all(host)
    assert report.disabled == 1
    source = host.source(source_id)
    assert not source.enabled and source.disabled_reason == "failures"
    assert source.failures == 4 and source.last_error == "http_status:500"
    (note,) = host.outbox()
    assert note.target_kind == "direct" and note.target_id == "camille"
    assert "failed 4 times in a row" in note.payload["text"]
    assert "the server answered with an error (HTTP 500)" in note.payload["text"]
    assert next_refresh_due(host.sessions) is None
    assert (await refresh_all(host, force=True)).checked == 0


@pytest.mark.asyncio
async def test_gone_disables_at_once_and_permanent_redirects_move_the_source(
    engine: Engine, local_server: LocalServer
) -> None:
    host = make_host(engine)

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(location="/new-home")

    async def found(request: web.Request) -> web.Response:
        raise web.HTTPFound(location="/new-home")

    local_server.route("/gone", text("bye", status=410))
    local_server.route("/old-home", moved)
    local_server.route("/temporary", found)
    local_server.route("/new-home", text(rss(("Un", "https://a.example/1"))))
    gone = host.add(local_server.url("/gone"))
    moved_id = host.add(local_server.url("/old-home"))
    temporary = host.add(local_server.url("/temporary"))
    report = await refresh_all(host)
    assert (report.disabled, report.updated) == (1, 2)
    assert host.source(gone).disabled_reason == "gone"
    assert "no longer exists" in host.outbox()[0].payload["text"]
    assert host.source(moved_id).url == local_server.url("/new-home")
    assert host.source(temporary).url == local_server.url("/temporary")


@pytest.mark.asyncio
async def test_bad_sources_fail_alone(engine: Engine, local_server: LocalServer) -> None:
    host = make_host(engine)
    bomb = gzip.compress(b"<rss>" + b" " * (4 * 1024 * 1024))

    async def gzip_bomb(request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip"})

    async def huge(request: web.Request) -> web.Response:
        return web.Response(body=b"<rss>" + b"x" * (3 * 1024 * 1024))

    async def slow(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"<rss>")
        await local_server.release.wait()
        return response

    local_server.route("/good", text(rss(("Un", "https://a.example/1"))))
    local_server.route("/html", text("<!doctype html><title>x</title>"))
    local_server.route("/garbage", text("\x00\x01 not xml at all {"))
    local_server.route("/bomb", gzip_bomb)
    local_server.route("/huge", huge)
    local_server.route("/slow", slow)
    ids = {
        name: host.add(local_server.url(f"/{name}"))
        for name in ("good", "html", "garbage", "bomb", "huge", "slow")
    }
    ids["private"] = host.add("http://10.0.0.1/feed")
    policy = FetchPolicy(
        allowed_networks=("127.0.0.1/32",),
        max_bytes=1024 * 1024,
        read_timeout=0.5,
        total_timeout=2.0,
    )
    async with Fetcher(policy) as fetcher:
        report = await refresh_all(host, fetcher=fetcher)
    errors = dict(report.errors)
    assert errors == {
        ids["html"]: "feed:not_a_feed",
        ids["garbage"]: "feed:not_a_feed",
        ids["bomb"]: "too_large",
        ids["huge"]: "too_large",
        ids["slow"]: "timeout",
        ids["private"]: "blocked_address",
    }
    assert report.updated == 1 and len(host.entries(ids["good"])) == 1


def _slow_parse(content: bytes, **kwargs: Any) -> Any:
    import time

    time.sleep(5)
    raise AssertionError("should have been given up")


@pytest.mark.asyncio
async def test_a_parse_over_the_time_limit_is_recorded(
    engine: Engine, local_server: LocalServer
) -> None:
    host = make_host(engine)
    local_server.route("/feed", text(rss(("Un", "https://a.example/1"))))
    source_id = host.add(local_server.url("/feed"))
    parser = FeedParser(processes=1, timeout=0.5, function=_slow_parse)
    try:
        report = await refresh_all(host, parser=parser)
    finally:
        parser.close()
    assert report.errors == [(source_id, "feed:timeout")]
    assert host.source(source_id).last_error == "feed:timeout"


@pytest.mark.asyncio
async def test_duplicates_within_and_across_feeds(
    engine: Engine, local_server: LocalServer
) -> None:
    host = make_host(engine)
    local_server.route(
        "/a",
        text(
            rss(
                ("Vélo", "https://news.example/velo?utm_source=rss&utm_medium=feed"),
                ("Vélo (bis)", "https://news.example/velo"),
                ("Bus", "https://news.example/bus"),
            )
        ),
    )
    local_server.route("/b", text(rss(("Le vélo", "https://news.example/velo?utm_campaign=x"))))
    first = host.add(local_server.url("/a"))
    second = host.add(local_server.url("/b"))
    await refresh_all(host)
    assert [e.link for e in host.entries(first)] == [
        "https://news.example/velo",
        "https://news.example/bus",
    ]
    (other,) = host.entries(second)
    assert other.link_hash == host.entries(first)[0].link_hash  # removed when a digest is built


@pytest.mark.asyncio
async def test_encodings_from_the_document_and_from_the_http_header(
    engine: Engine, local_server: LocalServer
) -> None:
    host = make_host(engine)
    latin = (
        '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>Fr</title>'
        "<item><title>Économie circulaire à Montréal</title><link>https://x.example/e</link>"
        "</item></channel></rss>"
    ).encode("iso-8859-1")
    cp1252 = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>'
        "<item><title>L’été « sobre »</title><link>https://x.example/w</link>"
        "</item></channel></rss>"
    ).encode("cp1252")

    async def declared(request: web.Request) -> web.Response:
        return web.Response(body=latin, content_type="application/rss+xml")

    async def header(request: web.Request) -> web.Response:
        return web.Response(
            body=cp1252, headers={"Content-Type": "application/xml; charset=windows-1252"}
        )

    local_server.route("/latin", declared)
    local_server.route("/cp1252", header)
    a = host.add(local_server.url("/latin"))
    b = host.add(local_server.url("/cp1252"))
    await refresh_all(host)
    assert host.entries(a)[0].title == "Économie circulaire à Montréal"
    assert host.entries(b)[0].title == "L’été « sobre »"


@pytest.mark.asyncio
async def test_the_address_guard_is_on_by_default(
    engine: Engine, local_server: LocalServer
) -> None:
    host = make_host(engine, allow_private_networks=False)
    local_server.route("/feed", text(rss(("Un", "https://a.example/1"))))
    source_id = host.add(local_server.url("/feed"))
    report = await refresh_all(host)
    assert report.errors == [(source_id, "blocked_address")]
    assert local_server.requests == []


def test_opml_import_and_export_for_the_command_line(engine: Engine) -> None:
    from commands.veille import OpmlError, export_opml, import_opml

    host = make_host(engine)
    document = (
        b'<?xml version="1.0"?><opml version="1.0"><body><outline text="Climat">'
        b'<outline type="rss" title="Un" xmlUrl="https://un.example/rss" htmlUrl="https://un.example/"/>'
        b'<outline type="rss" text="Deux" xmlUrl="https://deux.example/rss"/></outline>'
        b'<outline type="rss" text="Trois" xmlUrl="https://trois.example/rss"/></body></opml>'
    )
    with pytest.raises(LookupError):
        import_opml(host, document, channel="#veille")
    report = import_opml(host, document, channel="#veille", platform="console")
    assert len(report.added) == 3 and report.duplicates == 0
    again = import_opml(host, document, channel="veille", platform="console")
    assert again.added == [] and again.duplicates == 3
    assert next_refresh_due(host.sessions) == NOW  # imported sources are due at once
    exported = export_opml(host, channel="#veille", platform="console").decode()
    assert '<outline text="Climat" title="Climat">' in exported
    assert (
        'xmlUrl="https://un.example/rss" htmlUrl="https://un.example/" category="Climat"'
        in exported
    )
    assert exported.index("trois.example") < exported.index("Climat")  # no theme first
    assert export_opml(host) == export_opml(host, channel="veille", platform="console")
    for bad in (b"<html/>", b"not xml", b"<!DOCTYPE opml><opml/>", b"<opml><body/></opml>"):
        with pytest.raises(OpmlError):
            import_opml(host, bad, channel="veille", platform="console")


@pytest.mark.asyncio
async def test_backoff_wins_over_a_shorter_retry_after_and_a_week_caps_a_longer_one(
    engine: Engine, local_server: LocalServer
) -> None:
    host = make_host(engine, retry_base_minutes=60)
    local_server.route("/soon", text("busy", status=429, **{"Retry-After": "30"}))
    local_server.route("/never", text("busy", status=429, **{"Retry-After": str(30 * 86400)}))
    soon = host.add(local_server.url("/soon"))
    never = host.add(local_server.url("/never"))
    report = await refresh_all(host, rng=random.Random(3))
    assert sorted(code for _, code in report.errors) == ["rate_limited:429"] * 2
    # Backoff after one failure: between half and all of retry_base_minutes.
    delay = host.source(soon).next_fetch_at - NOW
    assert timedelta(minutes=30) <= delay <= timedelta(minutes=60)
    assert host.source(never).next_fetch_at == NOW + timedelta(days=7)
    assert host.source(soon).failures == host.source(never).failures == 1


@pytest.mark.asyncio
async def test_errors_are_recorded_per_source_and_a_success_clears_them(
    engine: Engine, local_server: LocalServer
) -> None:
    host = make_host(engine)
    answers = {"/a": [500, 200], "/b": [429, 304]}

    async def handler(request: web.Request) -> web.Response:
        status = answers[request.path].pop(0)
        if status == 200:
            return web.Response(text=rss(("Un", "https://a.example/1")), headers={"ETag": '"x"'})
        return web.Response(status=status, headers={"ETag": '"y"'} if status == 304 else {})

    local_server.route("/a", handler)
    local_server.route("/b", handler)
    a, b = host.add(local_server.url("/a")), host.add(local_server.url("/b"))
    first = await refresh_all(host, rng=random.Random(1))
    assert sorted(first.errors) == sorted([(a, "http_status:500"), (b, "rate_limited:429")])
    assert (host.source(a).last_error, host.source(b).last_error) == (
        "http_status:500",
        "rate_limited:429",
    )
    host.clock.advance(timedelta(days=1))
    second = await refresh_all(host)
    assert (second.updated, second.not_modified, second.failed) == (1, 1, 0)
    for source_id in (a, b):
        source = host.source(source_id)
        assert (source.failures, source.last_error) == (0, None)
        assert source.last_error_at == NOW  # when it last failed, kept for the record
        assert source.next_fetch_at == host.clock.now() + timedelta(hours=1)
    assert host.source(b).etag == '"y"'  # a 304 may bring a new validator


@pytest.mark.asyncio
async def test_308_moves_the_source_unless_the_channel_already_has_the_target(
    engine: Engine, local_server: LocalServer
) -> None:
    host = make_host(engine)

    def redirect(status: int, location: str) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(status=status, headers={"Location": location})

        return handler

    local_server.route("/old", redirect(308, "/new"))
    local_server.route("/twice", redirect(301, "/old"))  # 301 then 308: permanent all the way
    local_server.route("/mixed", redirect(302, "/old"))  # a temporary hop: the URL stays
    local_server.route("/taken", redirect(301, "/other"))
    local_server.route("/new", text(rss(("Un", "https://a.example/1"))))
    local_server.route("/other", text(rss(("Deux", "https://a.example/2"))))
    old = host.add(local_server.url("/old"))
    twice = host.add(local_server.url("/twice"), channel="ailleurs")
    mixed = host.add(local_server.url("/mixed"), channel="encore")
    taken = host.add(local_server.url("/taken"))
    host.add(local_server.url("/other"))
    report = await refresh_all(host)
    assert report.failed == 0 and report.updated == 5
    assert host.source(old).url == local_server.url("/new")
    assert host.source(twice).url == local_server.url("/new")
    assert host.source(mixed).url == local_server.url("/mixed")
    assert host.source(taken).url == local_server.url("/taken")  # #veille already has /other

    # The moved sources are fetched at their new address from then on.
    host.clock.advance(timedelta(hours=1))
    before = local_server.paths.count("/old")
    await refresh_all(host)
    assert local_server.paths.count("/old") == before + 1  # only the temporary one passes there


def test_not_modified_answers_recorded_in_bulk_leave_disabled_and_removed_sources_alone(
    engine: Engine,
) -> None:
    from commands.veille.refresh import record_not_modified_many
    from digests.fetcher import FetchResult

    host = make_host(engine)
    kept = host.add("https://a.example/feed")
    disabled = host.add("https://b.example/feed")
    with host.sessions.begin() as db:
        row = db.get(FeedSource, disabled)
        assert row is not None
        row.enabled = False
        row.failures = 3
        source_row = db.get(FeedSource, kept)
        assert source_row is not None
        source_row.interval_minutes = 180

    def answer(url: str, max_age: timedelta | None) -> FetchResult:
        return FetchResult(
            url=url,
            final_url=url,
            permanent_url=None,
            status=304,
            not_modified=True,
            content=b"",
            content_type=None,
            charset=None,
            etag='"new"',
            last_modified="Mon, 23 Nov 2026 07:00:00 GMT",
            max_age=max_age,
        )

    later = NOW + timedelta(minutes=5)
    with host.sessions.begin() as db:
        recorded = record_not_modified_many(
            db,
            [
                (kept, answer("https://a.example/feed", timedelta(hours=1))),
                (disabled, answer("https://b.example/feed", None)),
                (999, answer("https://c.example/feed", None)),
            ],
            later,
            host.settings.feeds,
        )
    assert recorded == [kept]
    source = host.source(kept)
    assert (source.etag, source.last_modified) == ('"new"', "Mon, 23 Nov 2026 07:00:00 GMT")
    assert source.last_success_at == source.last_fetched_at == later
    assert source.next_fetch_at == later + timedelta(hours=3)  # its interval beats max-age
    untouched = host.source(disabled)
    assert (untouched.etag, untouched.failures, untouched.last_fetched_at) == (None, 3, None)


@pytest.mark.asyncio
async def test_not_modified_answers_fall_back_to_one_by_one_when_the_bulk_update_fails(
    engine: Engine, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import commands.veille.refresh as refresh

    host = make_host(engine)
    local_server.route("/feed", conditional(rss(("Un", "https://a.example/1")), '"e1"'))
    source_id = host.add(local_server.url("/feed"))
    await refresh_all(host)

    def broken(*args: Any, **kwargs: Any) -> list[int]:
        raise RuntimeError("the bulk update failed")

    monkeypatch.setattr(refresh, "record_not_modified_many", broken)
    host.clock.advance(timedelta(hours=1))
    report = await refresh_all(host)
    assert (report.checked, report.not_modified, report.failed) == (1, 1, 0)
    source = host.source(source_id)
    assert source.last_success_at == host.clock.now()
    assert source.next_fetch_at == host.clock.now() + timedelta(hours=1)


@pytest.mark.asyncio
async def test_the_event_loop_runs_while_the_refresh_waits_for_the_database(
    database: Database, local_server: LocalServer
) -> None:
    """The refresh reads and records in worker threads: while SQLite's write lock is held
    elsewhere, first before the sources are read, then while their outcomes are recorded, the
    event loop keeps running (commands are answered), and the refresh ends once it is free."""
    if database.kind != "sqlite":
        pytest.skip("the write lock held from outside is SQLite's")
    engine = database.engine(busy_timeout_ms=20_000)
    migrate(engine)
    assert engine.url.database is not None
    locker = sqlite3.connect(engine.url.database, isolation_level=None)
    fetched = asyncio.Event()
    feed = conditional(rss(("Un", "https://a.example/1")), '"e"')

    async def locking(request: web.Request) -> web.StreamResponse:
        locker.execute("BEGIN IMMEDIATE")  # taken again before the outcome can be recorded
        fetched.set()
        return await feed(request)

    async def loop_runs_while(condition: Callable[[], bool]) -> int:
        ticks = 0
        while condition() and ticks < 30:
            await asyncio.sleep(0.01)
            ticks += 1
        return ticks

    try:
        host = make_host(engine)
        local_server.route("/feed", locking)
        source_id = host.add(local_server.url("/feed"))
        locker.execute("BEGIN IMMEDIATE")
        task = asyncio.create_task(refresh_all(host))
        assert await loop_runs_while(lambda: not task.done()) == 30
        assert local_server.requests == []  # still waiting to read the sources
        locker.execute("ROLLBACK")
        await fetched.wait()
        assert await loop_runs_while(lambda: not task.done()) == 30
        (etag,) = locker.execute(
            "SELECT etag FROM feed_sources WHERE id = ?", (source_id,)
        ).fetchone()
        assert etag is None  # not recorded yet
        locker.execute("ROLLBACK")
        report = await task
        assert (report.updated, report.new_entries) == (1, 1)
        assert host.source(source_id).etag == '"e"'
    finally:
        if locker.in_transaction:
            locker.execute("ROLLBACK")
        locker.close()
        engine.dispose()
