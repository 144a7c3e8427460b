"""The annual activity report for a scripted year (two sessions, polls, veille, highlights and a
gazette, a questionnaire, ideas): compared with a golden file, opened in headless Chromium, its
spreadsheet opened with openpyxl; the command line; an empty year refused."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.core import Attachment
from bot.storage.highlights import Highlight
from bot.storage.questionnaires import QuestionnaireAnswer
from bot.storage.veille import DigestArchive, FeedEntry, FeedSource
from tests.conftest import Database
from tests.digests.test_gazette_html import CHROMIUM, decode_png
from tests.support.chat import Chat, text_of
from tests.support.golden import UPDATE, check_golden

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden"
YEAR_START = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)  # Monday 12 January 2026, 09:00 in Paris
REPORT_DAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TISSERAND = shutil.which("tisserand") or str(Path(sys.executable).with_name("tisserand"))


def _at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _seed_veille(chat: Chat) -> None:
    """The veille of the year, written as the refresh and /partager would have (no network)."""
    with chat.db() as db:
        for n, theme in ((1, "eau"), (2, "énergie")):
            db.add(
                FeedSource(
                    platform="console",
                    channel_id="general",
                    url=f"https://veille.example.org/{n}.xml",
                    canonical=f"https://veille.example.org/{n}.xml",
                    title=f"Source {n}",
                    theme=theme,
                    next_fetch_at=_at(12, 1),
                    created_at=_at(1, 20 + n),
                )
            )
        db.flush()
        rows = (
            [("feed", "eau", 1)] * 5 + [("feed", "énergie", 2)] * 3 + [("share", "eau", None)] * 2
        )
        for i, (kind, theme, source) in enumerate(rows):
            db.add(
                FeedEntry(
                    kind=kind,
                    platform="console",
                    channel_id="general",
                    source_id=source,
                    entry_key=f"k{i}",
                    content_hash=f"h{i}",
                    title=f"Entrée {i}",
                    theme=theme,
                    created_at=_at(2 + i % 9, 3),
                    shared_by=2 if kind == "share" else None,
                )
            )
        for week in (6, 10, 20):
            db.add(
                DigestArchive(
                    platform="console",
                    channel_id="general",
                    period=f"2026-W{week:02d}",
                    slot_at=_at(2, 2) if week == 6 else _at(3 if week == 10 else 5, 9),
                    item_count=4,
                    created_at=_at(3, 9),
                )
            )
        db.commit()


async def script_year(chat: Chat) -> None:
    """A small network's year 2026, as it happens in the chat."""
    for user in ("alice", "bob", "chloe", "david"):
        await chat.say(user, "bonjour")
    await chat.command("alice", "/categorie elu")
    await chat.command("bob", "/categorie association")
    await chat.command("chloe", "/categorie association")
    # Two sessions.
    await chat.command(
        "camille",
        '/session creer "Webinaire mobilités" --quand "3 février 14h" --duree 2h '
        "--type webinaire --lien https://visio.example.org/m --places 10",
    )
    await chat.command(
        "camille",
        '/session creer "Visite de la ferme des Prés" --quand "17 mars 10h" --duree 3h '
        "--type visite --lien https://visio.example.org/v --places 10",
    )
    for user in ("alice", "bob", "chloe"):
        await chat.click(user, "session:1:register")
    for user in ("alice", "david"):
        await chat.click(user, "session:2:register")
    # Polls.
    await chat.command("camille", '/sondage "Quel thème pour mars ?" "Eau" "Énergie" "Mobilités"')
    await chat.command("camille", '/sondage "Un second webinaire ?" "Oui" "Non" --anonyme')
    for user, option in (("alice", 1), ("bob", 1), ("chloe", 3)):
        await chat.click(user, f"poll:1:vote:{option}")
    for user, option in (("alice", 1), ("david", 1), ("bob", 2)):
        await chat.click(user, f"poll:2:vote:{option}")
    await chat.move_to(_at(1, 26))
    await chat.command("camille", "/sondage clore 1")
    await chat.command("camille", "/sondage clore 2")
    # The first session: check-in, feedback and a comment.
    await chat.move_to(_at(2, 3, 13, 10))
    for user in ("alice", "bob"):
        await chat.click(user, "session:1:checkin")
    await chat.move_to(_at(2, 3, 16))
    await chat.click("alice", "session:1:feedback:useful", channel="@alice")
    await chat.say_private("alice", "Des exemples très concrets, merci.")
    await chat.click("bob", "session:1:feedback:average", channel="@bob")
    # The second.
    await chat.move_to(_at(3, 17, 9, 10))
    for user in ("alice", "david"):
        await chat.click(user, "session:2:checkin")
    await chat.move_to(_at(3, 17, 13))
    await chat.click("david", "session:2:feedback:useful", channel="@david")
    # Highlights and a gazette.
    await chat.command(
        "alice", '/pepite "On a planté 300 arbres avec les écoles" --themes "biodiversité"'
    )
    await chat.command(
        "bob", '/pepite "La cantine est passée au bio local" --themes "alimentation"'
    )
    await chat.move_to(_at(4, 1))
    await chat.command("camille", "/gazette brouillon")
    await chat.command("camille", "/gazette publier")
    _seed_veille(chat)
    # The members' evaluation (n° 1 and 2 are the sessions' comment forms).
    await chat.move_to(_at(6, 1))
    await chat.command("camille", '/questionnaire creer "Bilan du semestre" --anonyme')
    await chat.command("camille", '/questionnaire question 3 echelle "Utilité du réseau ?"')
    await chat.command(
        "camille", '/questionnaire question 3 choix "Format préféré ?" "Webinaire" "Visite"'
    )
    await chat.command("camille", '/questionnaire question 3 texte "Une proposition ?"')
    await chat.command("camille", "/questionnaire lancer 3 --tous")
    for user, scale, choice, words in (
        ("alice", 5, 2, "Plus de visites"),
        ("bob", 4, 1, "Des webinaires le soir"),
    ):
        await chat.click(user, f"survey:3:q:0:v:{scale}", channel=f"@{user}")
        await chat.click(user, f"survey:3:q:1:v:{choice}", channel=f"@{user}")
        await chat.say_private(user, words)
    await chat.click("chloe", "survey:3:q:0:v:3", channel="@chloe")
    await chat.move_to(_at(7, 1))
    await chat.command("camille", "/questionnaire clore 3")
    # Ideas.
    await chat.command("chloe", '/idee "Un groupe de travail sur l\'eau"')
    await chat.command("david", '/idee "Des visites chez les membres"')
    for user in ("alice", "bob"):
        await chat.click(user, "idea:2:support")
    await chat.click("alice", "idea:1:support")
    await chat.command("camille", '/idee statut 2 retenue "Trois visites au programme de 2027."')
    await chat.move_to(REPORT_DAY)


@pytest_asyncio.fixture
async def year(database: Database, tmp_path: Path) -> AsyncIterator[Chat]:
    chat = await Chat.start(database.url, tmp_path, start=YEAR_START)
    try:
        await script_year(chat)
        yield chat
    finally:
        await chat.stop()


def _run(args: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """A process run to its end (Chromium, the command line)."""
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, **options)


def _files(replies: list) -> tuple[Attachment, Attachment]:  # type: ignore[type-arg]
    (reply,) = replies
    html, xlsx = reply.attachments
    return html, xlsx


@pytest.mark.asyncio
async def test_the_report_of_a_scripted_year(year: Chat, tmp_path: Path) -> None:
    replies = await year.command("camille", "/rapport 2026", channel="@camille")
    assert "rapport d'activité 2026" in text_of(replies)
    html, xlsx = _files(replies)
    assert html.filename == "rapport-activite-2026.html"
    text = html.data.decode("utf-8")

    # What it says, section by section.
    assert "<h1>Rapport d&#39;activité 2026</h1>" in text
    for title in (
        "Le réseau",
        "Sessions",
        "Décisions",
        "Veille",
        "Mémoire",
        "L'évaluation par les membres",
        "Idées et propositions",
    ):
        assert f"<h2>{title.replace(chr(39), '&#39;')}</h2>" in text, title
    assert "Webinaire mobilités" in text and "Visite de la ferme des Prés" in text
    assert "Des exemples très concrets, merci. — Webinaire mobilités" in text
    assert "Plus de visites" in text and "Des webinaires le soir" in text
    assert "Trois visites au programme de 2027." in text
    # Only consented words and no names of members: the authors of ideas, comments and answers
    # are not printed; anonymous answers carry nothing but their words.
    for name in ("Alice", "Bob", "Chloe", "David"):
        assert name not in text, name
    assert "<script" not in text and "default-src 'none'" in text
    check_golden(GOLDEN / "report_2026_fr.html", text)

    # The spreadsheet, opened with its library.
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == [
        "Le réseau",
        "Sessions",
        "Décisions",
        "Veille",
        "Mémoire",
        "L'évaluation par les membres",
        "Idées et propositions",
    ]
    sessions = [row for row in book["Sessions"].iter_rows(values_only=True) if any(row)]
    held = next(row for row in sessions if row[0] == 1)
    assert held[1] == "Webinaire mobilités" and held[4:8] == (3, 2, 66.7, 1)
    figures = {row[0]: row[1] for row in sessions if len(row) > 1 and row[1] is not None}
    assert figures["Séances tenues"] == 2 and figures["Présences"] == 4
    ideas = [row for row in book["Idées et propositions"].iter_rows(values_only=True) if any(row)]
    assert (
        2,
        "Des visites chez les membres",
        3,
        "retenue",
        "Trois visites au programme de 2027.",
    ) in [tuple(row[:5]) for row in ideas]

    # Anonymous answers stay anonymous in the database too.
    with year.db() as db:
        assert all(
            a.member_id is None
            for a in db.scalars(select(QuestionnaireAnswer)).all()
            if a.questionnaire_id == 3
        )
        assert db.scalar(select(Highlight).where(Highlight.consent == "yes")) is not None

    # In a browser: not blank, no console message.
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    page = tmp_path / "report.html"
    page.write_bytes(html.data)
    shot = tmp_path / "report.png"
    result = _run(
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
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=900,2400",
            "--enable-logging=stderr",
            "--v=0",
            page.as_uri(),
        ],
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [
        line for line in result.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line
    ]
    assert console == [], "\n".join(console)
    width, height, channels, pixels = decode_png(shot.read_bytes())
    assert (width, height) == (900, 2400)
    sample = [
        tuple(pixels[i : i + 3])
        for i in range(0, len(pixels), channels * 97)
        if i + 3 <= len(pixels)
    ]
    assert len(set(sample)) > 50
    brightness = [sum(p) / 3 for p in sample]
    mean = sum(brightness) / len(brightness)
    assert sum((b - mean) ** 2 for b in brightness) / len(brightness) > 100
    if UPDATE:
        shutil.copyfile(shot, ROOT / "docs" / "report-screenshot.png")


@pytest.mark.asyncio
async def test_report_refusals_and_the_command_line(
    year: Chat, database: Database, tmp_path: Path
) -> None:
    empty = text_of(await year.command("camille", "/rapport 2025", channel="@camille"))
    assert "Rien ne s'est passé en 2025" in empty and "aucun rapport" in empty
    assert "entre 2000 et 2100" in text_of(await year.command("camille", "/rapport 1999"))
    # Members may not ask for it.
    assert "réservée" in text_of(await year.command("alice", "/rapport 2026"))

    out, sheet = tmp_path / "rapport.html", tmp_path / "rapport.xlsx"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TISSERAND_")}
    env.update(LANG="fr_FR.UTF-8", TISSERAND_DATA_DIR=str(tmp_path / "data"))
    run = _run(
        [
            TISSERAND,
            "report",
            "build",
            "--annee",
            "2026",
            "--out",
            str(out),
            "--xlsx",
            str(sheet),
            "--database",
            database.url,
        ],
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert "Rapport 2026 écrit dans" in run.stdout
    assert "Webinaire mobilités" in out.read_text(encoding="utf-8")
    assert "Sessions" in openpyxl.load_workbook(sheet).sheetnames
    none = _run(
        [
            TISSERAND,
            "report",
            "build",
            "--year",
            "2024",
            "--out",
            str(out),
            "--database",
            database.url,
        ],
        env=env,
    )
    assert none.returncode == 1 and "Rien ne s'est passé en 2024" in none.stderr
