"""How an event's gazette looks: the masthead names the event, photos at reading size, charts
whose labels stay legible on a phone, a footer for readers outside the chat; screenshots on a
desktop (1200 px) and a phone (390 px) in headless Chromium, and the A4 PDF."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core import ExtraEntry
from bot.i18n import Translators
from digests.gazette import EventHeader, GazetteContent, GazetteImage, render_gazette
from digests.pdf import PdfUnavailable, html_to_pdf
from tests.digests.test_gazette_html import (
    CHROMIUM,
    ROOT,
    TZ,
    UPDATE,
    _screenshot,
    decode_png,
    golden_content,
    make_png,
)

PHONE_CHART_WIDTH = 340
"""Pixels a chart takes on a 390 px phone: the page minus main's padding (2 × 16), the figure's
padding (2 × 8) and its border (2 × 1)."""


def event_content() -> GazetteContent:
    base = golden_content()
    photo = make_png(640, 400, (181, 69, 43))
    first = replace(
        base.highlights[0], images=(GazetteImage("image/png", photo, "La salle pleine"),)
    )
    plenary = ExtraEntry(
        "session",
        3,
        "Plénière de printemps",
        datetime(2027, 3, 12, 8, 0, tzinfo=UTC),
        (
            "Plénière · jeudi 12 mars 2027 à 09h00 (jusqu'à 17h00) · Salle des fêtes, Die",
            "38 participant·es : 14 élu·es, 12 agent·es, 9 membres d'association, 3 partenaires",
            "Avis (31 réponses) : Utile 24, Moyen 6, Peu utile 1",
        ),
        None,
        38,
    )
    return replace(
        base,
        highlights=(first, *base.highlights[1:]),
        sessions=(plenary,),
        event=EventHeader("Plénière de printemps", plenary.details[0]),
    )


def _render(locale: str = "fr") -> str:
    return render_gazette(event_content(), Translators(TZ).get(locale))


def test_the_masthead_names_the_event_and_the_footer_speaks_to_readers() -> None:
    html = _render()
    assert "<h1>Plénière de printemps</h1>" in html
    assert "Salle des fêtes, Die" in html.split("</header>")[0]
    assert "14 élu·es, 12 agent·es" in html and "Utile 24" in html
    footer = html.split("<footer>")[1]
    assert "/profil" not in footer and "/" + "gazette" not in footer
    assert "Réseau Ville durable" in footer


def test_chart_labels_are_legible_on_a_phone() -> None:
    html = _render()
    charts = re.findall(r"<svg.*?</svg>", html, re.S)
    assert charts
    for svg in charts:
        width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))  # type: ignore[union-attr]
        sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", svg)]
        assert sizes and min(sizes) * PHONE_CHART_WIDTH / width >= 12, (width, sorted(set(sizes)))


def test_the_members_chart_measures_participation() -> None:
    html = _render("en")
    assert "Members who took part, per month" in html
    assert "November 2026" in html  # the table of figures names whole months


def _not_blank(shot: Path, size: tuple[int, int]) -> None:
    width, height, channels, pixels = decode_png(shot.read_bytes())
    assert (width, height) == size
    sample = [
        tuple(pixels[i : i + 3])
        for i in range(0, len(pixels), channels * 89)
        if i + 3 <= len(pixels)
    ]
    assert len(set(sample)) > 50
    brightness = [sum(p) / 3 for p in sample]
    mean = sum(brightness) / len(brightness)
    assert sum((b - mean) ** 2 for b in brightness) / len(brightness) > 100


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize(("name", "size"), [("desktop", (1200, 3400)), ("phone", (390, 3800))])
def test_screenshots_on_a_desktop_and_a_phone(
    tmp_path: Path, name: str, size: tuple[int, int]
) -> None:
    html_path = tmp_path / "gazette.html"
    html_path.write_text(_render(), encoding="utf-8")
    shot = tmp_path / f"gazette-{name}.png"
    log = _screenshot(html_path, shot, tmp_path, f"{size[0]},{size[1]}")
    console = [line for line in log.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert console == [], "\n".join(console)
    _not_blank(shot, size)
    if UPDATE:
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / f"gazette-{name}.png")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_the_pdf_is_a4(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    pdf = html_to_pdf(_render().encode("utf-8"), chromium=CHROMIUM, work_dir=tmp_path)
    assert pdf.startswith(b"%PDF-")
    # A4 is 595 × 842 points (Chromium writes the page box in points)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes and all(abs(float(w) - 595) < 2 and abs(float(h) - 842) < 2 for w, h in boxes)


def test_a_missing_chromium_is_a_clear_refusal(tmp_path: Path) -> None:
    with pytest.raises(PdfUnavailable):
        html_to_pdf(b"<html></html>", chromium="no-such-chromium-here", work_dir=tmp_path)
