"""Parsing, sanitising and normalising feeds (digests.feeds): bytes in, clean entries out."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from digests.feeds import (
    FeedParseError,
    FeedParser,
    ParsedFeed,
    compile_filter,
    dedupe_across,
    discover_feeds,
    looks_like_html,
    neutralize_mentions,
    page_metadata,
    parse_feed,
    plain_text,
    sanitize_html,
)

URL = "https://feeds.example/rss"

HOSTILE = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hostile &lt;b&gt;feed&lt;/b&gt; @everyone</title>
<link>https://site.example/</link>
<item>
  <title>Hello &lt;script&gt;alert(1)&lt;/script&gt; @here</title>
  <link>javascript:alert(1)</link>
  <guid>one</guid>
  <description><![CDATA[<p onclick="steal()">Text <a href="javascript:alert(2)">bad</a>
  <a href="/relative">rel</a> <img src=x onerror=alert(3)> <script>evil()</script>
  <style>body{}</style> @all <iframe src="https://evil.example"></iframe></p>]]></description>
</item>
<item><title>Second</title><link>https://site.example/2?utm_source=x&amp;b=2&amp;a=1</link>
<guid>two</guid><pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_entries_are_sanitised_and_links_checked() -> None:
    feed = parse_feed(HOSTILE, url=URL)
    assert feed.title == "Hostile ‹b>feed‹/b> @\u200beveryone"
    first, second = feed.entries
    assert first.link is None  # javascript: is no link
    assert "<script" not in first.title and first.title.endswith("@\u200bhere")
    html = first.summary_html
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<style", "<img"):
        assert bad not in html.lower()
    assert '<a href="https://feeds.example/relative"' in html
    assert "@\u200ball" in html and "@\u200ball" in first.summary
    assert first.summary.startswith("Text bad rel")
    assert second.link == "https://site.example/2?a=1&b=2"
    assert second.published_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert feed.site_url == "https://site.example/"


def test_duplicates_within_a_feed_by_id_link_and_content() -> None:
    body = b"""<rss version="2.0"><channel><title>D</title>
    <item><title>A</title><guid>1</guid><link>https://x.example/a</link></item>
    <item><title>A again</title><guid>1</guid><link>https://x.example/a2</link></item>
    <item><title>Same link</title><guid>3</guid><link>https://x.example/a?utm_medium=m</link></item>
    <item><title>Copy</title><guid>4</guid><description>Body</description></item>
    <item><title>Copy</title><guid>5</guid><description>Body</description></item>
    <item><title>B</title><guid>6</guid><link>https://x.example/b</link></item>
    </channel></rss>"""
    feed = parse_feed(body, url=URL)
    assert [e.title for e in feed.entries] == ["A", "Copy", "B"]
    assert feed.skipped == 3


def test_entry_keys_fall_back_to_the_link_then_the_content() -> None:
    body = b"""<rss version="2.0"><channel><title>K</title>
    <item><title>With link</title><link>https://x.example/l</link></item>
    <item><title>Only text</title><description>Words</description></item>
    </channel></rss>"""
    again = parse_feed(body, url=URL)
    assert [e.key for e in parse_feed(body, url=URL).entries] == [e.key for e in again.entries]
    assert len({e.key for e in again.entries}) == 2


def test_filters_by_words_or_regex() -> None:
    body = b"""<rss version="2.0"><channel><title>F</title>
    <item><title>Plan V\xc3\xa9lo</title><guid>1</guid></item>
    <item><title>Appel a projets</title><guid>2</guid></item>
    <item><title>Autre chose</title><guid>3</guid></item></channel></rss>"""
    words = parse_feed(body, url=URL, entry_filter="velo|mobilité")
    assert [e.title for e in words.entries] == ["Plan Vélo"]
    regex = parse_feed(body, url=URL, entry_filter="/appel (à|a) projets/")
    assert [e.title for e in regex.entries] == ["Appel a projets"]
    for bad in ("", "/(/", "x" * 400):
        with pytest.raises(FeedParseError) as caught:
            compile_filter(bad)
        assert caught.value.code == "bad_filter"


def test_atom_and_json_feed() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
    <title>Atom</title><link href="https://atom.example/"/>
    <entry><title type="html">&lt;em&gt;Bold&lt;/em&gt; move</title><id>urn:1</id>
    <link href="https://atom.example/1"/><updated>2026-11-20T10:00:00Z</updated>
    <content type="html">&lt;p&gt;Hi&lt;/p&gt;</content></entry></feed>"""
    feed = parse_feed(atom, url=URL)
    assert feed.version == "atom10"
    assert feed.entries[0].title == "Bold move"
    assert feed.entries[0].summary_html == "<p>Hi</p>"
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON",
        "home_page_url": "https://json.example/",
        "items": [
            {
                "id": "1",
                "url": "https://json.example/1",
                "title": "Un @everyone",
                "content_html": "<p onmouseover='x()'>Corps</p>",
                "date_published": "2026-11-20T10:00:00+01:00",
            },
            {"id": "2", "content_text": "Texte <seul>"},
            "not an item",
        ],
    }
    parsed = parse_feed(
        json.dumps(document).encode(), url=URL, content_type="application/feed+json"
    )
    assert parsed.version == "json" and parsed.title == "JSON"
    one, two = parsed.entries
    assert one.title == "Un @\u200beveryone" and one.summary_html == "<p>Corps</p>"
    assert one.published_at == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert two.summary == "Texte ‹seul>"
    with pytest.raises(FeedParseError):
        parse_feed(b'{"version": "other", "items": []}', url=URL)


@pytest.mark.parametrize(
    "body",
    [b"", b"/etc/hostname", b"https://example.org/feed", b"<html><body>no</body></html>", b"{"],
)
def test_what_is_not_a_feed(body: bytes) -> None:
    # Bytes that look like a path or a URL are never opened nor fetched by feedparser.
    with pytest.raises(FeedParseError) as caught:
        parse_feed(body, url=URL)
    assert caught.value.code == "not_a_feed"


def test_html_detection() -> None:
    assert looks_like_html(b"<!DOCTYPE html><html>", None)
    assert looks_like_html(b"  <html lang=fr>", "application/xml")
    assert not looks_like_html(b"<?xml version='1.0'?><rss>", "text/html")
    assert looks_like_html(b"<p>hello</p>", "text/html")
    assert not looks_like_html(b"<feed xmlns='...'>", None)


def test_discovery_of_announced_feeds() -> None:
    page = b"""<!doctype html><html><head><base href="https://www.site.example/news/">
    <link rel="alternate" type="application/rss+xml" title="Actus" href="feed.xml">
    <link rel="Alternate stylesheet" type="application/atom+xml" href="/atom">
    <link rel="alternate" type="application/feed+json" href="https://www.site.example/feed.json">
    <link rel="alternate" type="text/html" hreflang="en" href="/en/">
    <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
    <link rel="alternate" type="application/rss+xml" href="feed.xml?utm_source=x">
    </head><body><link rel="alternate" type="application/rss+xml" href="/late"></body></html>"""
    found = discover_feeds(page, "https://www.site.example/news/page")
    assert [(f.url, f.title, f.media_type) for f in found] == [
        ("https://www.site.example/news/feed.xml", "Actus", "application/rss+xml"),
        ("https://www.site.example/atom", None, "application/atom+xml"),
        ("https://www.site.example/feed.json", None, "application/feed+json"),
    ]
    assert discover_feeds(b"<html><head></head></html>", "https://x.example/") == []


def test_page_metadata_for_shared_links() -> None:
    page = (
        '<html><head><meta charset="iso-8859-1"><title>Fallback</title>'
        '<meta property="og:title" content="Étude &amp; <script>x</script> @here">'
        '<meta name="description" content="' + "mot " * 300 + '"></head></html>'
    ).encode("iso-8859-1")
    meta = page_metadata(page)
    assert meta.title == "Étude & ‹script>x‹/script> @\u200bhere"
    assert meta.description is not None
    assert len(meta.description) <= 500 and meta.description.endswith("…")
    plain = page_metadata(b"<html><head><title> Just   a title </title></head></html>")
    assert plain == type(plain)(title="Just a title", description=None)


def test_text_helpers() -> None:
    assert plain_text("<p>a</p><p>b&amp;c</p><br>d") == "a b&c d"
    assert neutralize_mentions("@everyone @Here @alice @all") == (
        "@\u200beveryone @\u200bHere @alice @\u200ball"
    )
    assert (
        sanitize_html('<a href="javascript:x">x</a>')
        == '<a rel="noopener noreferrer nofollow">x</a>'
    )
    items = [("a", "h1"), ("b", None), ("c", "h1"), ("d", None), ("e", "h2")]
    assert dedupe_across(items, lambda item: item[1]) == [items[0], items[1], items[3], items[4]]


def _slow(content: bytes, **kwargs: Any) -> ParsedFeed:
    import time

    time.sleep(1.0)
    return ParsedFeed(title=None, site_url=None, version="x", entries=())


@pytest.mark.asyncio
async def test_parser_off_the_loop_with_a_time_limit() -> None:
    async with FeedParser(processes=0, timeout=0.2, function=_slow) as parser:
        with pytest.raises(FeedParseError) as caught:
            await parser.parse(b"<rss/>", url=URL)
    assert caught.value.code == "timeout"
    async with FeedParser(processes=0, timeout=5) as parser:
        results = await asyncio.gather(
            parser.parse(HOSTILE, url=URL), parser.parse(HOSTILE, url=URL)
        )
    assert [len(r.entries) for r in results] == [2, 2]


@pytest.mark.asyncio
async def test_process_pool_recovers_after_killing_a_stuck_worker() -> None:
    parser = FeedParser(processes=1, timeout=3.0)
    try:
        first = await parser.parse(HOSTILE, url=URL)
        parser._function = _slow  # the next feed overruns and its worker is killed
        parser.timeout = 0.3
        with pytest.raises(FeedParseError):
            await parser.parse(HOSTILE, url=URL)
        parser._function = parse_feed
        parser.timeout = 10.0
        again = await parser.parse(HOSTILE, url=URL)
    finally:
        parser.close()
    assert first == again


def test_corpus_sample_is_found(tmp_path: Path) -> None:
    # The corpus test lives in test_corpus.py; here only the wrapper used by benchmarks.
    from digests.feeds import parse_many

    results = parse_many([(HOSTILE, URL), (b"nope", URL)])
    assert isinstance(results[0], ParsedFeed) and isinstance(results[1], FeedParseError)


@pytest.mark.parametrize(
    "body",
    [
        HOSTILE,
        b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
        <title type="html">A &amp;lt;b&amp;gt;feed</title><link href="https://atom.example/"/>
        <entry><title>Plain &lt;tag&gt; title</title><id>https://atom.example/1</id>
        <published>2026-11-20T10:00:00+01:00</published><author><name>Zo\xc3\xa9</name></author>
        <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">Hi
        <a href="/rel">there</a> @here</p><script>bad()</script></div></content></entry>
        <entry><title type="html">&lt;em&gt;Two&lt;/em&gt;</title><id>urn:2</id>
        <link rel="alternate" href="https://atom.example/2?utm_source=a"/>
        <summary>Short text &amp; more</summary></entry></feed>""",
    ],
)
def test_the_lxml_fast_path_matches_feedparser(
    body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("lxml")
    import digests.feeds.fast as fast_path

    assert fast_path.fast_parse(body, None) is not None
    fast = parse_feed(body, url=URL)
    monkeypatch.setattr(fast_path, "_ETREE", None)
    reference = parse_feed(body, url=URL)
    assert fast.entries == reference.entries
    assert (fast.title, fast.site_url, fast.version) == (
        reference.title,
        reference.site_url,
        reference.version,
    )


def test_the_fast_path_leaves_unusual_documents_to_feedparser() -> None:
    pytest.importorskip("lxml")
    from digests.feeds.fast import fast_parse

    latin = '<?xml version="1.0"?><rss version="2.0"><channel><item><title>é</title></item></channel></rss>'
    assert fast_parse(latin.encode("cp1252"), None) is None  # not UTF-8: lxml refuses it
    assert fast_parse(latin.encode(), "windows-1252") is None  # the HTTP charset says otherwise
    assert fast_parse(b'<!DOCTYPE rss [<!ENTITY x "y">]><rss version="2.0"/>', None) is None
    assert fast_parse(b'<rss version="0.91"><channel/></rss>', None) is None
    assert (
        fast_parse(b'<rss version="2.0"><channel><item><body>x</body></item></channel></rss>', None)
        is None
    )
