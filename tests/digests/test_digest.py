"""Rendering a digest from plain data (digests.digest): no database, no settings object.

What goes in a digest and the golden renderings are tested with the family
(tests/commands/veille/test_digest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader

from bot.i18n import Translators
from digests.digest import DigestData, DigestItem, DigestSection, md_escape, md_url, render

PARIS = ZoneInfo("Europe/Paris")
SLOT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 9:00 in Paris


def item(number: int, title: str, **fields: object) -> DigestItem:
    values: dict[str, object] = {
        "id": number,
        "kind": "feed",
        "title": title,
        "link": f"https://example.org/{number}",
        "summary": "",
        "summary_html": "",
        "source": "Exemple",
        "theme": None,
        "shared_by": None,
        "comment": None,
        "published_at": datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        "pinned": False,
    }
    values.update(fields)
    return DigestItem(**values)  # type: ignore[arg-type]


def data(*sections: DigestSection) -> DigestData:
    return DigestData(
        platform="console",
        channel_id="veille",
        channel_name="veille",
        period="2026-W49",
        slot=SLOT,
        at=SLOT,
        sections=sections,
    )


def plain_environment() -> Environment:
    """An app environment that autoescapes nothing: the HTML must be escaped all the same."""
    return Environment(loader=PackageLoader("digests", "templates"))


def test_text_and_html_from_plain_data() -> None:
    t = Translators(PARIS).get("fr")
    share = item(
        7,
        "<script>alert(1)</script>",
        kind="share",
        link="https://x.example/?a=1&b=<2>",
        source="x.example",
        shared_by="Alice",
        comment="À lire @everyone",
        summary_html='<p onclick="x()">ok</p><script>bad()</script>',
        published_at=None,
    )
    pinned = item(3, "Plan *vélo*", pinned=True)
    digest = data(
        DigestSection("shares", "Partagés par les membres", (share,)),
        DigestSection("theme:mobilite", "Mobilité", (pinned, item(4, "Bus")), left_out=2),
    )
    text, html = render(plain_environment(), digest, t, network="Réseau Climat")
    assert text.startswith("**Veille de la semaine — Réseau Climat**\n*lundi 30 novembre 2026")
    assert "\\<script\\>" in text and "Plan \\*vélo\\*" in text
    assert "@everyone" not in text and "@\u200beveryone" in text
    assert "n° 3" not in text  # numbers only in a preview
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "onclick" not in html and "<p>ok</p>" in html
    assert 'href="https://x.example/?a=1&amp;b=&lt;2&gt;"' in html
    numbered, _ = render(plain_environment(), digest, t, network="Réseau Climat", numbered=True)
    assert "- n° 3 📌 · [Plan \\*vélo\\*](https://example.org/3)" in numbered
    assert "et 2 autres liens dans ce thème" in numbered


def test_an_empty_digest_says_so() -> None:
    t = Translators(PARIS).get("en")
    text, html = render(plain_environment(), data(), t, network="Climate network")
    assert text.startswith("**Weekly watch — Climate network**")
    assert "Nothing new in the watch this week." in text
    assert "Nothing new in the watch this week." in html


def test_a_templates_dir_is_searched_first(tmp_path: Path) -> None:
    (tmp_path / "digest.md.j2").write_text("Notre veille : {{ item_count }} liens\n")
    t = Translators(PARIS).get("fr")
    digest = data(DigestSection("other", "", (item(1, "Un"), item(2, "Deux"))))
    text, html = render(plain_environment(), digest, t, network="R", templates_dir=tmp_path)
    assert text == "Notre veille : 2 liens\n"
    assert html.startswith("<!DOCTYPE html>")  # the built-in one, not overridden


def test_markdown_escaping_and_urls() -> None:
    assert md_escape("a*b_c [d] <e> @here") == "a\\*b\\_c \\[d\\] \\<e\\> @\u200bhere"
    assert md_escape(None) == ""
    assert md_url("https://x.example/a b(c)<d>") == "https://x.example/a%20b%28c%29%3Cd>"
