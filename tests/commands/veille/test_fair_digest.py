"""A fair digest (issue 15): entries chosen across sources, undated entries after dated ones,
categories mapped to themes, /digest remettre, OPML round trip of a source's settings, and the
command-line import into a channel the bot has not seen."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import Attachment
from bot.storage.veille import FeedEntry, FeedSource
from commands.veille.store import add_source_row, store_entries
from digests.feeds import ParsedEntry, ParsedFeed, link_hash, parse_feed
from digests.opml import build_opml, parse_opml
from tests.support.chat import START, Chat, text_of


def _entry(
    title: str, *, published: datetime | None, categories: tuple[str, ...] = ()
) -> ParsedEntry:
    link = "https://example.org/" + hashlib.sha256(title.encode()).hexdigest()[:12]
    return ParsedEntry(
        key=hashlib.sha256(title.encode()).hexdigest(),
        link=link,
        link_hash=link_hash(link),
        content_hash=hashlib.sha256(("c" + title).encode()).hexdigest(),
        title=title,
        summary="",
        summary_html="",
        author=None,
        published_at=published,
        categories=categories,
    )


def _feed(
    chat: Chat,
    url: str,
    entries: list[ParsedEntry],
    *,
    theme: str | None = "énergie",
    title: str | None = None,
    theme_map: str | None = None,
) -> int:
    with chat.db() as db:
        source, _ = add_source_row(
            db,
            platform="console",
            channel_id="veille",
            url=url,
            now=chat.clock.now(),
            title=title or url,
            theme=theme,
        )
        source.theme_map = theme_map
        store_entries(
            db, source, ParsedFeed(title, None, "rss20", tuple(entries)), chat.clock.now()
        )
        db.commit()
        return source.id


async def _preview(chat: Chat) -> str:
    return text_of(await chat.command("camille", "/digest apercu", channel="veille"))


@pytest.mark.asyncio
async def test_one_big_feed_does_not_take_every_place(chat: Chat) -> None:
    await chat.say("camille", "Bonjour", channel="veille")
    yesterday = START - timedelta(days=1)
    # One feed of 200 entries, all of yesterday and newer than anything else...
    _feed(
        chat,
        "https://big.example/rss",
        [_entry(f"Gros-{i:03d}", published=yesterday + timedelta(minutes=i)) for i in range(200)],
    )
    # ... and nine feeds of 3 entries, a little older.
    for k in range(9):
        _feed(
            chat,
            f"https://small{k}.example/rss",
            [
                _entry(f"Petit-{k}-{j}", published=yesterday - timedelta(hours=k + 1, minutes=j))
                for j in range(3)
            ],
        )
    shown = await _preview(chat)
    big = shown.count("Gros-")
    small = {k for k in range(9) if f"Petit-{k}-" in shown}
    # 5 places per theme (the default), one per source per round: the big feed gets one, and
    # the first four small feeds (the newest) get the others.
    assert big == 1
    assert len(small) == 4
    assert "Gros-199" in shown  # the big feed's newest entry


@pytest.mark.asyncio
async def test_every_source_gets_a_place_when_there_is_room(chat: Chat) -> None:
    await chat.stop()
    roomy = await Chat.start(
        chat.app.settings.effective_database_url,
        Path(chat.app.settings.data_dir),
        feeds={"top_per_theme": 12},
    )
    try:
        await roomy.say("camille", "Bonjour", channel="veille")
        yesterday = START - timedelta(days=1)
        _feed(
            roomy,
            "https://big.example/rss",
            [
                _entry(f"Gros-{i:03d}", published=yesterday + timedelta(minutes=i))
                for i in range(200)
            ],
        )
        for k in range(9):
            _feed(
                roomy,
                f"https://small{k}.example/rss",
                [
                    _entry(
                        f"Petit-{k}-{j}", published=yesterday - timedelta(hours=k + 1, minutes=j)
                    )
                    for j in range(3)
                ],
            )
        shown = await _preview(roomy)
        assert all(f"Petit-{k}-0" in shown for k in range(9))
        assert shown.count("Gros-") == 2  # 10 sources, 12 places: two rounds for the best two
    finally:
        await roomy.stop()


@pytest.mark.asyncio
async def test_undated_entries_never_outrank_dated_ones(chat: Chat) -> None:
    await chat.say("camille", "Bonjour", channel="veille")
    old = START - timedelta(days=5)
    _feed(
        chat,
        "https://mixed.example/rss",
        [
            *(_entry(f"Sans-date-{i}", published=None) for i in range(6)),
            *(_entry(f"Daté-{i}", published=old + timedelta(hours=i)) for i in range(3)),
        ],
    )
    shown = await _preview(chat)
    assert all(f"Daté-{i}" in shown for i in range(3))
    assert shown.count("Sans-date-") == 2
    assert shown.index("Daté-2") < shown.index("Sans-date-")


@pytest.mark.asyncio
async def test_a_source_maps_its_own_categories_to_the_networks_themes(chat: Chat) -> None:
    await chat.say("camille", "Bonjour", channel="veille")
    with chat.db() as db:
        source, _ = add_source_row(
            db,
            platform="console",
            channel_id="veille",
            url="https://mix.example/rss",
            now=chat.clock.now(),
            theme="Énergie",
        )
        db.commit()
        number = source.id
    answer = text_of(
        await chat.command(
            "camille",
            f'/veille categories {number} "Alimentation durable=Alimentation"',
            channel="veille",
        )
    )
    assert "Alimentation durable → Alimentation" in answer
    bad = text_of(
        await chat.command("camille", f"/veille categories {number} cuisine", channel="veille")
    )
    assert "n'est pas de la forme catégorie=Thème" in bad
    rss = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Mix</title>'
        "<item><title>Cantines bio</title><link>https://mix.example/1</link>"
        "<category>alimentation DURABLE</category><description>d</description></item>"
        "<item><title>Réseau de chaleur</title><link>https://mix.example/2</link>"
        "<category>chaleur</category><description>d</description></item>"
        "</channel></rss>"
    ).encode()
    parsed = parse_feed(rss, url="https://mix.example/rss")
    assert parsed.entries[0].categories == ("alimentation DURABLE",)
    with chat.db() as db:
        stored = db.get(FeedSource, number)
        assert stored is not None
        store_entries(db, stored, parsed, chat.clock.now())
        db.commit()
        themes = dict(db.execute(select(FeedEntry.title, FeedEntry.theme)).tuples().all())
    assert themes == {"Cantines bio": "Alimentation", "Réseau de chaleur": "Énergie"}
    shown = await _preview(chat)
    assert shown.index("Alimentation") < shown.index("Cantines bio") < shown.index("Énergie")
    removed = text_of(
        await chat.command("camille", f"/veille categories {number} aucune", channel="veille")
    )
    assert "n'associe plus aucune catégorie" in removed


@pytest.mark.asyncio
async def test_digest_remettre_undoes_retirer(chat: Chat) -> None:
    await chat.say("camille", "Bonjour", channel="veille")
    _feed(chat, "https://one.example/rss", [_entry("Article utile", published=START)])
    with chat.db() as db:
        number = db.scalars(select(FeedEntry.id)).one()
    dropped = text_of(await chat.command("camille", f"/digest retirer {number}", channel="veille"))
    assert f"Pour le remettre : /digest remettre {number}" in dropped
    assert "Article utile" not in await _preview(chat)
    back = text_of(await chat.command("camille", f"/digest remettre {number}", channel="veille"))
    assert "de nouveau candidat" in back
    assert "Article utile" in await _preview(chat)
    again = text_of(await chat.command("camille", f"/digest remettre {number}", channel="veille"))
    assert "rien à remettre" in again
    chat.locales["dominique"] = "en"
    english = text_of(await chat.command("dominique", f"/digest drop {number}", channel="veille"))
    assert f"To put it back: /digest restore {number}." in english


@pytest.mark.asyncio
async def test_opml_export_and_import_round_trip_a_sources_settings(chat: Chat) -> None:
    await chat.say("camille", "Bonjour", channel="veille")
    await chat.say("camille", "Bonjour", channel="autre")
    with chat.db() as db:
        source, _ = add_source_row(
            db,
            platform="console",
            channel_id="veille",
            url="https://a.example/rss",
            now=chat.clock.now(),
            title="A",
            theme="Énergie",
            entry_filter="/sobri(e|é)t[eé]/",
        )
        source.interval_minutes = 360
        source.theme_map = "alimentation durable=Alimentation\nclimat=Climat"
        add_source_row(
            db,
            platform="console",
            channel_id="veille",
            url="https://b.example/rss",
            now=chat.clock.now(),
            title="B",
        )
        db.commit()
    exported = [
        r
        for r in await chat.command("camille", "/veille exporter", channel="veille")
        if r.attachments
    ]
    document = exported[0].attachments[0].data
    assert b"xmlns:tisserand=" in document and b'tisserand:interval="360"' in document
    await chat.command(
        "camille",
        "/veille importer",
        channel="autre",
        attachments=[Attachment("veille.opml", "text/x-opml", document)],
    )
    with chat.db() as db:
        copies = {
            s.url: s for s in db.scalars(select(FeedSource).where(FeedSource.channel_id == "autre"))
        }
    a, b = copies["https://a.example/rss"], copies["https://b.example/rss"]
    assert (a.theme, a.filter, a.interval_minutes) == ("Énergie", "/sobri(e|é)t[eé]/", 360)
    assert a.theme_map == "alimentation durable=Alimentation\nclimat=Climat"
    assert (b.theme, b.filter, b.interval_minutes, b.theme_map) == (None, None, None, None)


def test_opml_attributes_that_do_not_fit_are_dropped() -> None:
    document = (
        b'<?xml version="1.0"?><opml version="2.0" '
        b'xmlns:tisserand="https://tisserand.invalid/ns/opml/1"><body>'
        b'<outline type="rss" text="x" xmlUrl="https://x.example/rss" '
        b'tisserand:interval="3" tisserand:filter="" /></body></opml>'
    )
    (outline,), _ = parse_opml(document)
    assert (outline.interval_minutes, outline.filter) == (None, None)
    rebuilt = build_opml([], title="t", now=datetime(2026, 1, 1, tzinfo=UTC))
    assert rebuilt.startswith(b"<?xml")


def test_the_command_line_import_says_the_channel_is_unknown(tmp_path: Path) -> None:
    opml = tmp_path / "veille.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline type="rss" text="A" xmlUrl="https://a.example/rss"/></body></opml>',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TISSERAND_")}
    env.update(LANG="fr_FR.UTF-8", TISSERAND_DATA_DIR=str(tmp_path / "data"))
    tisserand = str(Path(sys.executable).with_name("tisserand"))
    result = subprocess.run(
        [tisserand, "veille", "import", str(opml), "--channel", "veille"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1
    assert "le canal « veille » est inconnu" in result.stderr
    assert "écrivez quelque chose dans #veille" in result.stderr
    assert "--platform rocketchat --channel ID" in result.stderr
