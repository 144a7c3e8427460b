"""The report seam: families declare sections (``Family.report``), two with one key are refused,
a failing section is left out (logged), an empty year is refused, and the report follows the
network's language."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.family import Family, FamilyError, ReportSection, check_families, report_sources
from bot.i18n import Translators
from bot.wiring import FAMILIES
from commands import help as help_family
from commands.report import NoActivity, build_report, collect
from digests.report import Figure, ReportPart
from tests.support.chat import Chat

PARIS = ZoneInfo("Europe/Paris")


def _part(*_: Any) -> ReportPart:
    return ReportPart("x", "X", 5, figures=(Figure("n", 1),))


def test_two_sections_with_one_key_are_refused() -> None:
    first = Family("a", (help_family,), report=(ReportSection("x", _part),))
    second = Family("b", (help_family,), report=(ReportSection("x", _part),))
    with pytest.raises(FamilyError, match="report section 'x'"):
        check_families([first, second])


def test_every_family_that_keeps_a_year_gives_a_section() -> None:
    assert list(report_sources(FAMILIES)) == [
        "polls",
        "sessions",
        "veille",
        "gazette",
        "ideas",
        "questionnaires",
    ]


@pytest.mark.asyncio
async def test_failing_section_left_out_empty_year_refused_english(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    await chat.command("alice", '/idee "Un atelier sur l\'eau"')
    now = datetime(2026, 12, 1, tzinfo=UTC)
    english = Translators(PARIS, "en").get("en")

    def broken(*_: Any) -> ReportPart:
        raise RuntimeError("broken section")

    sources = {**report_sources(FAMILIES), "broken": broken}
    with chat.db() as db, caplog.at_level(logging.ERROR):
        parts = collect(db, english, 2026, sources, now)
        assert [p.key for p in parts] == ["network", "ideas"]
        assert "the report section 'broken' failed" in caplog.text
        with pytest.raises(NoActivity):
            build_report(db, english, 2025, network="N", sources=sources, now=now)
        files = build_report(db, english, 2026, network="Our network", sources=sources, now=now)
    html = files.html.decode("utf-8")
    assert '<html lang="en">' in html
    assert "<h1>Annual activity report 2026</h1>" in html
    assert "<h2>Ideas and proposals</h2>" in html and "Un atelier sur l&#39;eau" in html
    assert "Alice" not in html
