"""The console scenario: a session filled, waitlisted, a registration cancelled, the first in
line promoted, reminders as the clock moves, check-in, feedback; calendar files parsed back."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from tests.conftest import Database
from tests.support.console import console_settings, run_script

START = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # jeudi 3 décembre 2026, 14h00 à Paris


def _messages(transcript: str) -> dict[int, str]:
    """Message number -> header and body, from a console transcript."""
    parts = re.split(r"^(?=\[#\d+\] )", transcript, flags=re.MULTILINE)
    found: dict[int, str] = {}
    for part in parts:
        match = re.match(r"\[#(\d+)\] ", part)
        if match:
            found[int(match.group(1))] = part  # an edit replaces the first version
    return found


def _to(messages: dict[int, str], user: str) -> list[str]:
    return [
        text for text in messages.values() if text.split("\n", 1)[0].find(f"@{user} (privé)") > 0
    ]


def _ics(out_dir: Path, number: int) -> icalendar.Calendar:
    (path,) = out_dir.glob(f"{number}-*.ics")
    return icalendar.Calendar.from_ical(path.read_bytes())


@pytest.mark.asyncio
async def test_session_filled_waitlisted_cancelled_promoted_and_reminded(
    database: Database, tmp_path: Path
) -> None:
    settings = console_settings(database.url, tmp_path)
    out_dir = tmp_path / "out"
    first = await run_script(
        [
            '/session creer "Webinaire mobilités" --quand "jeudi 3 décembre 14h" --duree 2h '
            "--type webinaire --lien https://visio.example.org/mobilites --places 2",
            ":as alice",
            ":click 2 S'inscrire",
            ":as bob",
            ":click 2 S'inscrire",
            ":as chloe",
            ":click 2 S'inscrire",
            ":as david",
            ":click 2 1",
            "@david: /session 1",
            "@bob: /desinscription 1",
            "@erin: /sessions",
            ":as camille",
            "/participants 1",
            ":clock 2026-12-02T14:00",
            ":clock 2026-12-03T13:00",
            ":clock 2026-12-03T14:01",
        ],
        settings=settings,
        out_dir=out_dir,
    )
    messages = _messages(first)
    posted = first.split("[#2] #general tisserand:\n", 1)[1].split("\n[#", 1)[0]
    assert posted.startswith("📅 **Webinaire mobilités** (n° 1)")
    assert "  (1) S'inscrire\n  (2) Se désinscrire\n  📎 " in posted
    # Edited as it filled, then once the session started: registrations closed, no buttons.
    announcement = messages[2]
    assert announcement.startswith("[#2] #general tisserand (modifié):\n📅 **Webinaire")
    assert "complet — liste d'attente : 1" in announcement and "S'inscrire" not in announcement
    (event,) = _ics(out_dir, 2).walk("VEVENT")
    assert event.decoded("DTSTART") == START

    alice = _to(messages, "alice")
    assert "✅ Votre inscription à **Webinaire mobilités** (n° 1) est confirmée." in alice[0]
    chloe = _to(messages, "chloe")
    assert "est complète : vous êtes sur la liste d'attente, en position 1" in chloe[0]
    david = _to(messages, "david")
    assert "en position 2" in david[0]
    assert "⏳ Vous êtes sur la liste d'attente, en position 2." in david[1]
    # Bob leaves: Chloé, first in line, gets the seat and a calendar file; David moves up.
    assert "Votre inscription à **Webinaire mobilités** (n° 1) est annulée" in first
    promotion = next(m for m in chloe if "Une place s'est libérée" in m)
    number = int(re.match(r"\[#(\d+)\]", promotion).group(1))  # type: ignore[union-attr]
    (event,) = _ics(out_dir, number).walk("VEVENT")
    assert event["SEQUENCE"] == 0 and str(event["STATUS"]) == "CONFIRMED"
    assert "complet — liste d'attente : 1" in first
    roster = first[first.index("**Participant·es — Webinaire mobilités (n° 1)**") :]
    assert "1. alice — sans catégorie — confirmée" in roster
    assert "2. chloe — sans catégorie — confirmée" in roster
    assert "3. david — sans catégorie — liste d'attente, position 1" in roster
    assert "1 inscription annulée." in roster

    # Reminders: 24 h then 1 h before, to confirmed members only, each once.
    day_before = first.index("horloge : mercredi 2 décembre 2026 à 14h00")
    hour_before = first.index("horloge : jeudi 3 décembre 2026 à 13h00")
    for user in ("alice", "chloe"):
        reminders = [m for m in _to(messages, user) if "⏰ Rappel" in m]
        assert [("24 heures" in m, "1 heure," in m) for m in reminders] == [
            (True, False),
            (False, True),
        ]
        assert first.index(reminders[0]) > day_before
        assert first.index(reminders[1]) > hour_before
    assert not [m for m in _to(messages, "bob") + _to(messages, "david") if "⏰ Rappel" in m]

    checkin = next(n for n, m in messages.items() if "  (1) Je suis là" in m)
    second = await run_script(
        [
            ":as alice",
            f":click {checkin} Je suis là",
            ":as david",
            f":click {checkin} 1",
            ":as camille",
            "/presence 1 @chloe",
            ":clock 2026-12-03T16:05",
            ":clock 2026-12-03T17:05",
            ":clock +1d",
        ],
        settings=settings,
        out_dir=out_dir,
        start=START + timedelta(minutes=2),
    )
    assert "Merci, votre présence à **Webinaire mobilités** (n° 1) est enregistrée." in second
    assert "Vous n'êtes pas sur la liste des participant·es confirmé·es" in second
    assert "Présence à **Webinaire mobilités** (n° 1) enregistrée pour chloe." in second
    assert (
        f"[#{checkin}] #general tisserand (modifié):\nL'émargement de **Webinaire mobilités** "
        "(n° 1) est clos : 2 personnes présentes." in second
    )
    later = _messages(second)
    for user in ("alice", "chloe"):
        (feedback,) = [m for m in _to(later, user) if "Merci d'avoir participé" in m]
        assert "  (1) Utile\n  (2) Moyen\n  (3) Peu utile" in feedback
    assert not [m for m in _to(later, "david") if "Merci d'avoir participé" in m]
