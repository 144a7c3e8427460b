"""The weekly digest (commands.veille.digest): selection, exactly-once sending and golden
files for the rendered text and HTML (regenerate with UPDATE_GOLDEN=1)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import FrozenClock
from bot.config import Settings, load_settings
from bot.core import Actor, Place
from bot.i18n import Translators
from bot.storage.engine import make_session_factory
from bot.storage.members import record_place, upsert_member
from bot.storage.outbox import OutboxMessage
from bot.storage.veille import DigestArchive, DigestSchedule, FeedEntry
from commands.veille.digest import (
    collect,
    next_digest_due,
    preview_digest,
    render_digest,
    send_due_digests,
)
from commands.veille.store import add_source_row, store_entries
from digests.feeds import ParsedEntry, ParsedFeed, link_hash
from tests.support.golden import check_golden

PARIS = ZoneInfo("Europe/Paris")
GOLDEN = Path(__file__).parent / "golden"
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 11:00 in Paris
MONDAY_9 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # next Monday 9:00 in Paris


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


# --- a network with a few sources ----------------------------------------------------------------


@dataclass
class Host:
    sessions: sessionmaker[Session]
    clock: FrozenClock
    settings: Settings
    templates: Environment


def make_host(engine: Engine, **feeds: Any) -> Host:
    settings = load_settings(
        None, environ={}, overrides={"feeds": feeds, "network": {"name": "Réseau Climat"}}
    )
    env = Environment(
        loader=PackageLoader("digests", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Host(make_session_factory(engine), FrozenClock(START), settings, env)


def entry(title: str, link: str | None, *, day: int, summary: str = "") -> ParsedEntry:
    return ParsedEntry(
        key=hashlib.sha256(title.encode()).hexdigest(),
        link=link,
        link_hash=link_hash(link) if link else None,
        content_hash=hashlib.sha256((title + summary).encode()).hexdigest(),
        title=title,
        summary=summary,
        summary_html=f"<p>{summary}</p>" if summary else "",
        author=None,
        published_at=datetime(2026, 11, day, 9, 0, tzinfo=UTC),
    )


def populate(host: Host, channel: str = "veille") -> dict[str, int]:
    """Two feeds with themes, one without, a duplicate across feeds, shares, old news."""
    now = host.clock.now()
    ids: dict[str, int] = {}
    with host.sessions.begin() as db:
        record_place(db, Place("console", channel, channel), now)
        alice = upsert_member(db, Actor("console", "alice", "Alice Martin"), now)
        mobility, _ = add_source_row(
            db,
            platform="console",
            channel_id=channel,
            url="https://mobilites.example/rss",
            now=now,
            title="Mobilités & territoires",
            theme="mobilité",
        )
        energy, _ = add_source_row(
            db,
            platform="console",
            channel_id=channel,
            url="https://energie.example/rss",
            now=now,
            title="Énergie locale",
            theme="énergie",
        )
        misc, _ = add_source_row(
            db, platform="console", channel_id=channel, url="https://divers.example/rss", now=now
        )
        feed = [
            entry(
                "ZFE : le guide 2026",
                "https://mobilites.example/zfe",
                day=22,
                summary="Un <b>guide</b> & des exemples.",
            ),
            entry("Plan vélo de Lyon", "https://mobilites.example/velo", day=20),
            entry("Covoiturage rural", "https://mobilites.example/covoit", day=19),
            entry("Archive de 2019", "https://mobilites.example/old", day=1),
        ]
        store_entries(db, mobility, ParsedFeed("M", None, "rss20", tuple(feed)), now)
        store_entries(
            db,
            energy,
            ParsedFeed(
                "E",
                None,
                "rss20",
                (
                    entry("Communautés d'énergie", "https://energie.example/ce", day=21),
                    # The same article as the mobility feed, with tracking parameters.
                    entry("ZFE (repris)", "https://mobilites.example/zfe?utm_source=x", day=22),
                ),
            ),
            now,
        )
        store_entries(
            db,
            misc,
            ParsedFeed(
                "D",
                None,
                "rss20",
                (entry("Sans thème *gras* [x]", "https://divers.example/1", day=21),),
            ),
            now,
        )
        share = FeedEntry(
            kind="share",
            platform="console",
            channel_id=channel,
            entry_key="s1",
            link="https://cerema.example/etude",
            link_hash=link_hash("https://cerema.example/etude"),
            content_hash="c1",
            title="Mobilités rurales : l'étude",
            summary="40 territoires ruraux.",
            summary_html="<p>40 territoires ruraux.</p>",
            author="cerema.example",
            theme="mobilité",
            created_at=now,
            shared_by=alice.id,
            comment="À lire avant la plénière @\u200beveryone",
        )
        db.add(share)
        db.flush()
        for item in db.scalars(select(FeedEntry)):
            ids[item.title] = item.id
    return ids


def _golden(name: str, actual: str) -> None:
    check_golden(GOLDEN / name, actual)


def test_selection_and_golden_renderings(engine: Engine) -> None:
    host = make_host(engine, top_per_theme=2)
    ids = populate(host)
    with host.sessions.begin() as db:
        db.get(FeedEntry, ids["Covoiturage rural"]).pinned = True  # type: ignore[union-attr]
        db.get(FeedEntry, ids["Plan vélo de Lyon"]).dropped = True  # type: ignore[union-attr]
    t = Translators(PARIS).get("fr")
    with host.sessions() as db:
        data = collect(
            db, platform="console", channel_id="veille", at=MONDAY_9, feeds=host.settings.feeds, t=t
        )
    assert [s.key for s in data.sections] == ["shares", "theme:energie", "theme:mobilite", "other"]
    assert [i.title for i in data.sections[2].items] == ["Covoiturage rural", "ZFE : le guide 2026"]
    assert "ZFE (repris)" not in [i.title for i in data.items]
    assert "Archive de 2019" not in [i.title for i in data.items]
    assert ids["Plan vélo de Lyon"] in data.considered
    assert data.period == "2026-W49"
    text, html = render_digest(host.templates, data, t, host.settings)
    _golden("digest.md", text)
    _golden("digest.html", html)
    numbered, _ = render_digest(host.templates, data, t, host.settings, numbered=True)
    assert f"- n° {ids['Covoiturage rural']} 📌 · [Covoiturage rural]" in numbered
    english, _ = render_digest(host.templates, data, Translators(PARIS).get("en"), host.settings)
    assert english.startswith(
        "**Weekly watch — Réseau Climat**\n*lundi 30 novembre 2026".replace(
            "lundi 30 novembre 2026", "Monday 30 November 2026"
        )
    )


def test_html_is_autoescaped_even_with_an_app_environment_that_does_not(engine: Engine) -> None:
    host = make_host(engine)
    host.templates = Environment(loader=PackageLoader("digests", "templates"))  # no autoescape
    with host.sessions.begin() as db:
        record_place(db, Place("console", "veille", "veille"), START)
        db.add(
            FeedEntry(
                kind="share",
                platform="console",
                channel_id="veille",
                entry_key="k",
                link="https://x.example/?a=1&b=<2>",
                content_hash="h",
                title="<script>alert(1)</script>",
                summary="",
                summary_html='<p onclick="x()">ok</p><script>bad()</script>',
                created_at=START,
            )
        )
    t = Translators(PARIS).get("fr")
    with host.sessions() as db:
        data = collect(
            db, platform="console", channel_id="veille", at=MONDAY_9, feeds=host.settings.feeds, t=t
        )
    text, html = render_digest(host.templates, data, t, host.settings)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "onclick" not in html and "<p>ok</p>" in html
    assert 'href="https://x.example/?a=1&amp;b=&lt;2&gt;"' in html
    assert "\\<script\\>" in text


def test_templates_the_network_overrides(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "digest.md.j2").write_text("Notre veille : {{ item_count }} liens\n")
    host = make_host(engine, templates_dir=str(tmp_path))
    populate(host)
    t = Translators(PARIS).get("fr")
    with host.sessions() as db:
        data = collect(
            db, platform="console", channel_id="veille", at=MONDAY_9, feeds=host.settings.feeds, t=t
        )
    text, html = render_digest(host.templates, data, t, host.settings)
    assert text == f"Notre veille : {data.item_count} liens\n"
    assert html.startswith("<!DOCTYPE html>")  # the built-in one, not overridden


@pytest.mark.asyncio
async def test_sent_once_per_channel_and_period_then_nothing_new(engine: Engine) -> None:
    host = make_host(engine)
    populate(host)
    due = next_digest_due(host.sessions, host.settings)
    assert due == MONDAY_9
    host.clock.move_to(MONDAY_9 + timedelta(minutes=3))
    assert await send_due_digests(host) == 1
    assert await send_due_digests(host) == 0  # the same period: nothing more
    with host.sessions() as db:
        (row,) = db.scalars(select(OutboxMessage))
        (archive,) = db.scalars(select(DigestArchive))
        pending = db.scalars(select(FeedEntry).where(FeedEntry.digest_id.is_(None))).all()
    assert row.key == "digest:console:veille:2026-W49"
    assert row.due_at == MONDAY_9
    assert row.payload["attachments"][0]["filename"] == "digest-2026-W49.html"
    assert archive.item_count == 6 and archive.html.startswith("<!DOCTYPE html>")
    assert [e.title for e in pending] == ["Archive de 2019"]  # too old to be considered
    assert next_digest_due(host.sessions, host.settings) == MONDAY_9 + timedelta(days=7)
    # A week with nothing new posts nothing, but the week is settled.
    host.clock.move_to(MONDAY_9 + timedelta(days=7))
    assert await send_due_digests(host) == 0
    with host.sessions() as db:
        assert len(db.scalars(select(OutboxMessage)).all()) == 1
        assert len(db.scalars(select(DigestArchive)).all()) == 2
    assert next_digest_due(host.sessions, host.settings) == MONDAY_9 + timedelta(days=14)


@pytest.mark.asyncio
async def test_an_empty_week_posts_a_line_when_configured(engine: Engine) -> None:
    host = make_host(engine, empty_digest="line")
    with host.sessions.begin() as db:
        record_place(db, Place("console", "veille", "veille"), START)
        db.add(
            DigestSchedule(
                platform="console",
                channel_id="veille",
                channel_name="veille",
                weekday=4,
                hour=16,
                minute=30,
                updated_at=START,
            )
        )
    friday = paris(2026, 11, 27, 16, 30)
    assert next_digest_due(host.sessions, host.settings) == friday
    host.clock.move_to(friday)
    assert await send_due_digests(host) == 1
    with host.sessions() as db:
        (row,) = db.scalars(select(OutboxMessage))
    assert row.key == "digest:console:veille:2026-W48"
    assert row.payload["text"] == "Rien de neuf dans la veille cette semaine."


@pytest.mark.asyncio
async def test_after_a_long_stop_only_the_latest_slot_is_built(engine: Engine) -> None:
    host = make_host(engine)
    populate(host)
    host.clock.move_to(MONDAY_9 + timedelta(days=21, hours=2))
    assert await send_due_digests(host) == 1
    with host.sessions() as db:
        (archive,) = db.scalars(select(DigestArchive))
    assert archive.period == "2026-W52"


def test_preview_for_the_cli(engine: Engine) -> None:
    host = make_host(engine)
    ids = populate(host)
    text = preview_digest(host, channel="#veille")
    assert f"n° {ids['ZFE : le guide 2026']} · [ZFE : le guide 2026]" in text
    with pytest.raises(LookupError):
        preview_digest(host, channel="#nowhere")


@pytest.mark.asyncio
async def test_a_broken_template_skips_the_week_without_looping(
    engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "digest.md.j2").write_text("{{ no_such_function() }}\n")
    host = make_host(engine, templates_dir=str(tmp_path))
    populate(host)
    host.clock.move_to(MONDAY_9)
    assert await send_due_digests(host) == 0
    with host.sessions() as db:
        assert db.scalars(select(OutboxMessage)).all() == []
        (archive,) = db.scalars(select(DigestArchive))
        pending = db.scalars(select(FeedEntry).where(FeedEntry.digest_id.is_(None))).all()
    assert archive.item_count == 0 and archive.outbox_key is None
    assert len(pending) == 8  # nothing was considered: it all waits for the next digest
    assert next_digest_due(host.sessions, host.settings) == MONDAY_9 + timedelta(days=7)
