"""The gazette file: golden output, safety of what it prints, images, and a real browser.

Regenerate the golden files with ``UPDATE_GOLDEN=1`` (the README's screenshots come from
test_gazette_look.py).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core import ExtraEntry
from bot.i18n import Translators
from digests.gazette import (
    GazetteContent,
    GazetteImage,
    HighlightEntry,
    ImageEmpty,
    ImageRejected,
    ImageTooLarge,
    Newcomer,
    NotAnImage,
    check_image,
    integer_ticks,
    monthly_participation,
    render_gazette,
    safe_link,
    sniff_image,
)

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
NOW = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)
TZ = ZoneInfo("Europe/Paris")


# --- PNG by hand: make small images, and read the browser's screenshot -------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def make_png(width: int, height: int, color: tuple[int, int, int], stripe: bool = True) -> bytes:
    """An RGB PNG of one colour (with a darker diagonal stripe, so it is not flat)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            dark = stripe and abs(x - y) < max(2, width // 10)
            rows.extend(tuple(c // 2 for c in color) if dark else color)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, channels, pixels) of an 8-bit, non-interlaced RGB(A) or grey PNG."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, idat = 8, bytearray()
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0
            channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
        elif kind == b"IDAT":
            idat.extend(body)
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    out = bytearray()
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        method = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if method == 1:
                line[i] = (line[i] + left) & 0xFF
            elif method == 2:
                line[i] = (line[i] + up) & 0xFF
            elif method == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif method == 4:
                line[i] = (line[i] + _paeth(left, up, upper_left)) & 0xFF
        out.extend(line)
        previous = line
    return width, height, channels, bytes(out)


# --- the content of the golden gazette ---------------------------------------------------------


def golden_content(*, draft: bool = False) -> GazetteContent:
    blue = make_png(24, 16, (47, 111, 115))
    ochre = make_png(16, 16, (212, 154, 42))
    gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    return GazetteContent(
        network="Réseau Ville durable",
        since=datetime(2026, 10, 26, 23, 0, tzinfo=UTC),
        until=NOW,
        generated_at=NOW,
        number=None if draft else 4,
        editorial=(
            "Un mois riche en rencontres : la plénière de Lyon, deux webinaires et une "
            "première fresque du climat pour les élus.\nMerci à toutes et à tous !"
        ),
        highlights=(
            HighlightEntry(
                number=12,
                quote="La fresque du climat a réuni 40 élus hier soir !\nOn recommence en janvier.",
                author="Alice Martin",
                said_at=datetime(2026, 11, 5, 19, 12, tzinfo=UTC),
                channel="plenieres",
                link="https://chat.example.org/channel/plenieres?msg=abc123",
                themes=("climat", "élus"),
                images=(
                    GazetteImage("image/png", blue, "La salle"),
                    GazetteImage("image/gif", gif),
                ),
            ),
            HighlightEntry(
                number=15,
                quote="Nous avons planté 300 arbres avec les écoles <du quartier> & les parents.",
                author=None,
                said_at=datetime(2026, 11, 12, 8, 30, tzinfo=UTC),
                channel="initiatives",
                link="javascript:alert(1)",
                themes=("nature", "climat"),
                images=(GazetteImage("image/png", ochre, "Plantation"),),
            ),
            HighlightEntry(
                number=18,
                quote="Le covoiturage solidaire démarre à Vénissieux lundi.",
                author="Bob Nguyen",
                said_at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
                themes=("mobilité",),
            ),
        ),
        sessions=(
            ExtraEntry(
                "session",
                3,
                "Plénière d'automne",
                datetime(2026, 11, 5, 13, 0, tzinfo=UTC),
                ("38 participants", "Hôtel de la Métropole, Lyon"),
                None,
                38,
            ),
            ExtraEntry(
                "session",
                4,
                "Webinaire : rénovation énergétique",
                datetime(2026, 11, 17, 11, 0, tzinfo=UTC),
                ("21 participants",),
                "https://visio.example.org/renovation",
                21,
            ),
        ),
        polls=(
            ExtraEntry(
                "poll",
                7,
                "Date de la prochaine plénière ?",
                datetime(2026, 11, 19, 18, 0, tzinfo=UTC),
                ("Retenu : jeudi 12 mars (17 voix sur 25)",),
            ),
        ),
        newcomers=(
            Newcomer("Chloé Dubois", datetime(2026, 11, 2, 9, 0, tzinfo=UTC)),
            Newcomer("Karim Benali", datetime(2026, 11, 15, 9, 0, tzinfo=UTC)),
        ),
        newcomer_count=3,
        participation=(
            (date(2026, 6, 1), 12),
            (date(2026, 7, 1), 9),
            (date(2026, 8, 1), 4),
            (date(2026, 9, 1), 18),
            (date(2026, 10, 1), 23),
            (date(2026, 11, 1), 27),
        ),
        draft=draft,
    )


def _render(locale: str = "fr", *, draft: bool = False) -> str:
    t = Translators(TZ).get(locale)
    return render_gazette(golden_content(draft=draft), t)


def _compare_golden(name: str, html: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert html == expected, f"{name} changed: inspect it, then run with UPDATE_GOLDEN=1"


def test_golden_gazette_in_french() -> None:
    _compare_golden("gazette.html", _render("fr"))


def test_golden_gazette_in_english() -> None:
    _compare_golden("gazette_en.html", _render("en"))


def test_rendering_is_deterministic_and_self_contained() -> None:
    first, second = _render(), _render()
    assert first == second
    assert "<script" not in first.lower()
    assert not re.search(r"""(?:src|href)="(?!data:|#|https?://(?:chat|visio)\.example)""", first)
    assert 'src="data:image/png;base64,' in first and 'src="data:image/gif;base64,' in first
    assert "default-src 'none'" in first
    for name in ("members", "attendance", "themes"):
        assert f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-{name}"' in first
    ids = re.findall(r'\bid="([^"]+)"', first)
    assert len(ids) == len(set(ids))
    assert "Generated with pygal" not in first
    assert re.search(r"chart-[0-9a-f]{8}-", first) is None


def test_what_people_wrote_is_escaped_and_links_are_checked() -> None:
    html = _render()
    assert "&lt;du quartier&gt; &amp; les parents" in html
    assert "javascript:" not in html
    assert 'href="https://chat.example.org/channel/plenieres?msg=abc123"' in html
    assert "Un membre du réseau" in html  # the anonymous highlight
    assert html.count('<article class="highlight"') == 3
    assert safe_link("ftp://x.org/a") is None and safe_link("https://x.org/a") == "https://x.org/a"


def test_phone_and_print_rules_are_there() -> None:
    html = _render()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "@page { size: A4;" in html
    assert "@media print" in html


def test_draft_banner_and_no_number() -> None:
    draft = _render(draft=True)
    assert "Brouillon : pas encore publiée" in draft
    assert "Numéro" not in draft.split("<h1>")[0]
    assert "Numéro 4" in _render()


def test_empty_gazette_says_so() -> None:
    t = Translators(TZ).get("fr")
    html = render_gazette(GazetteContent("R", NOW, NOW, NOW), t)
    assert "Rien à raconter cette fois-ci." in html
    assert "<svg" not in html


def test_images_are_checked_by_their_bytes() -> None:
    png = make_png(4, 4, (1, 2, 3))
    assert sniff_image(png) == "image/png"
    assert sniff_image(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert check_image(png, declared="image/jpeg", max_bytes=10_000) == "image/png"
    assert check_image(png, declared=None, max_bytes=10_000) == "image/png"
    assert check_image(png, declared="application/octet-stream", max_bytes=10_000) == "image/png"
    cases = [
        (png, "text/html", 10_000, NotAnImage),
        (b"<svg/>", "image/svg+xml", 10_000, NotAnImage),
        (b"hello", "image/png", 10_000, NotAnImage),
        (png, "image/png", 20, ImageTooLarge),
        (b"", "image/png", 20, ImageEmpty),
    ]
    for data, declared, limit, reason in cases:
        with pytest.raises(ImageRejected) as caught:
            check_image(data, declared=declared, max_bytes=limit)
        assert type(caught.value) is reason


def test_stored_bytes_that_are_not_an_image_are_not_embedded() -> None:
    t = Translators(TZ).get("fr")
    content = GazetteContent(
        "R",
        NOW,
        NOW,
        NOW,
        highlights=(
            HighlightEntry(
                1, "q", "A", NOW, images=(GazetteImage("image/png", b"<svg onload=x>"),)
            ),
        ),
    )
    html = render_gazette(content, t)
    assert "data:image" not in html and "onload" not in html


def test_charts_helpers() -> None:
    assert integer_ticks(0) == [0, 1]
    assert integer_ticks(5) == [0, 1, 2, 3, 4, 5]
    assert integer_ticks(49)[-1] >= 49 and len(integer_ticks(49)) <= 7
    activity = [
        (1, datetime(2026, 8, 30, 23, 30, tzinfo=UTC)),  # 31 August in Paris
        (1, datetime(2026, 9, 2, tzinfo=UTC)),
        (1, datetime(2026, 9, 20, tzinfo=UTC)),  # the same member twice in September
        (2, datetime(2026, 9, 30, 22, 30, tzinfo=UTC)),  # 1 October 00:30 in Paris
        (3, datetime(2026, 11, 20, tzinfo=UTC)),
        (4, datetime(2026, 12, 1, tzinfo=UTC)),  # after the gazette's end
    ]
    points = monthly_participation(activity, NOW, months=6, tz=TZ)
    # the months before anyone took part are cut; distinct members per month, in Paris time
    assert points == (
        (date(2026, 8, 1), 1),
        (date(2026, 9, 1), 1),
        (date(2026, 10, 1), 1),
        (date(2026, 11, 1), 1),
    )


def test_png_helpers_round_trip() -> None:
    width, height, channels, pixels = decode_png(make_png(5, 3, (10, 20, 30), stripe=False))
    assert (width, height, channels) == (5, 3, 3)
    assert pixels == bytes((10, 20, 30)) * 15


# --- a real browser ----------------------------------------------------------------------------


def _screenshot(html_path: Path, shot: Path, tmp_path: Path, size: str) -> str:
    assert CHROMIUM is not None
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            f"--screenshot={shot}",
            f"--window-size={size}",
            "--enable-logging=stderr",
            "--v=0",
            html_path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_the_gazette_opens_in_chromium(tmp_path: Path) -> None:
    html_path = tmp_path / "gazette.html"
    html_path.write_text(_render(), encoding="utf-8")
    shot = tmp_path / "gazette.png"
    log = _screenshot(html_path, shot, tmp_path, "412,2600")
    console = [line for line in log.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert console == [], "\n".join(console)
    width, height, channels, pixels = decode_png(shot.read_bytes())
    assert (width, height) == (412, 2600)
    # Not blank: many distinct colours, and a real spread of brightness.
    sample = [
        tuple(pixels[i : i + 3])
        for i in range(0, len(pixels), channels * 97)
        if i + 3 <= len(pixels)
    ]
    assert len(set(sample)) > 50
    brightness = [sum(p) / 3 for p in sample]
    mean = sum(brightness) / len(brightness)
    variance = sum((b - mean) ** 2 for b in brightness) / len(brightness)
    assert variance > 100
