"""Every feed of ``../shared/corpora/feedparser`` goes through ingestion (parse, store, digest,
render) without an uncaught exception, and nothing stored or rendered carries a script, an
``on*=`` attribute, a ``javascript:`` URL or a live mass mention.

Skipped when the corpus folder is absent. Parsing runs directly (no HTTP layer) in a process pool.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, PackageLoader
from sqlalchemy import select

from bot.config import load_settings
from bot.i18n import Translators
from bot.storage.engine import make_engine, make_session_factory, migrate
from bot.storage.veille import FeedEntry
from commands.veille.digest import collect, render_digest
from commands.veille.store import add_source_row, store_entries
from digests.feeds import FeedParseError, ParsedFeed, parse_feed

CORPUS = Path(__file__).parents[2].parent / "shared" / "corpora" / "feedparser"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LIVE_MENTION = re.compile(r"@(?:everyone|here|all|channel)\b", re.IGNORECASE)
MARKUP = re.compile(r"<[A-Za-z!/?]")
BAD_SCHEME = re.compile(r"^\s*(?:javascript|vbscript|data)\s*:", re.IGNORECASE)

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} is absent")


class _Inspector(HTMLParser):
    """Collects what must never be in sanitised HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "form", "base", "meta", "link"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"{tag} {name}=")
            if value and BAD_SCHEME.match(value):
                self.problems.append(f"{tag} {name}={value[:40]}")

    def handle_data(self, data: str) -> None:
        if LIVE_MENTION.search(data):
            self.problems.append(f"mention in {data[:40]!r}")


def html_problems(markup: str, *, document: bool = False) -> list[str]:
    inspector = _Inspector()
    inspector.feed(markup)
    inspector.close()
    problems = inspector.problems
    if document:  # the digest page: its own <meta>/<link> tags are fine, scripts are not
        problems = [p for p in problems if not p.startswith(("<meta>", "<link>"))]
    if re.search(r"<script", markup, re.IGNORECASE):
        problems.append("<script")
    return problems


def _parse(path: str) -> tuple[str, ParsedFeed | str]:
    data = Path(path).read_bytes()
    content_type = "application/feed+json" if path.endswith(".json") else None
    try:
        return path, parse_feed(data, url="https://corpus.example/feed", content_type=content_type)
    except FeedParseError as exc:
        return path, exc.code


def test_every_corpus_feed_is_ingested_cleanly(tmp_path: Path) -> None:
    files = sorted(str(p) for p in CORPUS.rglob("*") if p.suffix in (".xml", ".json"))
    assert len(files) >= 2000
    workers = min(4, os.cpu_count() or 1)
    spawn = multiprocessing.get_context("spawn")  # no fork of a process running threads
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=spawn) as pool:
        results = list(pool.map(_parse, files, chunksize=64))
    parsed = {path: result for path, result in results if isinstance(result, ParsedFeed)}
    refused = {path: result for path, result in results if isinstance(result, str)}
    assert set(refused.values()) <= {"not_a_feed", "unsafe"}
    # Refused for safety: exactly the two feeds that declare entities in a DTD (digests.safexml).
    unsafe = {Path(path).name for path, code in refused.items() if code == "unsafe"}
    assert unsafe == {"entity_in_doctype.xml", "doctype_contains_entity_decl.xml"}
    assert len(parsed) > 0.99 * len(files)

    engine = make_engine(f"sqlite:///{tmp_path / 'corpus.sqlite3'}")
    migrate(engine)
    sessions = make_session_factory(engine)
    stored = 0
    with sessions.begin() as db:
        for index, (path, feed) in enumerate(sorted(parsed.items())):
            source, _ = add_source_row(
                db,
                platform="console",
                channel_id=f"c{index % 50}",
                url=f"https://corpus.example/{index}",
                now=NOW,
                theme=Path(path).parent.name,
            )
            stored += store_entries(db, source, feed, NOW)
    assert stored > 500

    with sessions() as db:
        for entry in db.scalars(select(FeedEntry)):
            for text in (entry.title, entry.summary, entry.author or ""):
                assert not MARKUP.search(text), (entry.title, text)
                assert not LIVE_MENTION.search(text), text
            assert entry.link is None or entry.link.startswith(("http://", "https://"))
            assert html_problems(entry.summary_html) == [], entry.summary_html

    settings = load_settings(
        None, environ={}, overrides={"feeds": {"top_per_theme": 1000, "max_entry_age_days": 36500}}
    )
    t = Translators(settings.network.tz).get("fr")
    env = Environment(loader=PackageLoader("digests", "templates"), trim_blocks=True)
    rendered = 0
    with sessions() as db:
        for index in range(50):
            data = collect(
                db, platform="console", channel_id=f"c{index}", at=NOW, feeds=settings.feeds, t=t
            )
            text, html = render_digest(env, data, t, settings)
            rendered += data.item_count
            assert not LIVE_MENTION.search(text)
            assert "](javascript:" not in text.lower()
            assert html_problems(html, document=True) == []
    assert rendered > 500
    engine.dispose()
