"""iCalendar files written by hand, parsed back with the icalendar library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.storage.engine import make_session_factory
from commands.sessions import SessionDraft, cancel_session, create_session, export_calendar
from commands.sessions.ics import (
    MAX_OCTETS,
    CalendarEvent,
    Method,
    build_calendar,
    escape_text,
    fold,
    session_uid,
    slugify,
)

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
START = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # 14:00 in Paris


def _event(**changes: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": "session-12@reseau-ville-durable.tisserand",
        "sequence": 2,
        "title": "Webinaire : mobilités, vélo; \\ et « covoiturage »",
        "starts_at": START,
        "ends_at": START + timedelta(hours=2),
        "created_at": NOW - timedelta(days=3),
        "updated_at": NOW - timedelta(days=1),
        "description": "Ligne 1\nLigne 2, avec virgule; point-virgule",
        "location": "Salle 3, Hôtel de ville",
        "url": "https://visio.example.org/mobilites?x=1&y=2",
        "categories": ("webinaire",),
    }
    values.update(changes)
    return CalendarEvent(**values)  # type: ignore[arg-type]


def _parse(data: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(data)


def test_publish_round_trips_through_icalendar() -> None:
    data = build_calendar(
        [_event()], method=Method.PUBLISH, now=NOW, organizer="Réseau", tz_name="Europe/Paris"
    )
    calendar = _parse(data)
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["VERSION"] == "2.0"
    assert calendar["X-WR-TIMEZONE"] == "Europe/Paris"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == "session-12@reseau-ville-durable.tisserand"
    assert event["SEQUENCE"] == 2
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(hours=2)
    assert event.decoded("DTSTAMP") == NOW
    assert event.decoded("DTSTART").astimezone(ZoneInfo("Europe/Paris")).hour == 14
    assert str(event["SUMMARY"]) == "Webinaire : mobilités, vélo; \\ et « covoiturage »"
    assert str(event["DESCRIPTION"]) == "Ligne 1\nLigne 2, avec virgule; point-virgule"
    assert str(event["LOCATION"]) == "Salle 3, Hôtel de ville"
    assert str(event["URL"]) == "https://visio.example.org/mobilites?x=1&y=2"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "mailto:" in str(event["ORGANIZER"])
    assert event["ORGANIZER"].params["CN"] == "Réseau"


def test_cancel_calendar_carries_cancelled_events_only() -> None:
    data = build_calendar(
        [_event(cancelled=True, sequence=3)], method=Method.CANCEL, now=NOW, organizer="R"
    )
    calendar = _parse(data)
    assert calendar["METHOD"] == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 3
    with pytest.raises(ValueError, match="CANCEL"):
        build_calendar([_event()], method=Method.CANCEL, now=NOW, organizer="R")


def test_lines_end_with_crlf_and_are_folded_at_75_octets() -> None:
    long_text = "Élus, agents et associations — " * 20
    data = build_calendar(
        [_event(description=long_text, title="é" * 60)],
        method=Method.PUBLISH,
        now=NOW,
        organizer="R",
    )
    assert data.endswith(b"\r\n")
    physical = data.split(b"\r\n")[:-1]
    assert all(len(line) <= MAX_OCTETS for line in physical)
    assert b"\n" not in data.replace(b"\r\n", b"")
    for line in physical:
        line.decode("utf-8")  # never cut inside a UTF-8 sequence
    assert any(line.startswith(b" ") for line in physical)
    (event,) = _parse(data).walk("VEVENT")
    assert str(event["DESCRIPTION"]) == long_text
    assert str(event["SUMMARY"]) == "é" * 60


def test_escaping_rules() -> None:
    assert escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"
    assert fold("X:" + "a" * 10) == "X:" + "a" * 10 + "\r\n"
    assert slugify("Réseau Ville durable !") == "reseau-ville-durable"
    assert slugify("***") == "network"
    assert session_uid(12, "Réseau Ville durable") == "session-12@reseau-ville-durable.tisserand"


@given(st.text(min_size=0, max_size=300))
def test_any_text_survives_folding_and_escaping(text: str) -> None:
    cleaned = text.replace("\r", "")
    data = build_calendar(
        [_event(description=cleaned or None, title=cleaned or "x")],
        method=Method.PUBLISH,
        now=NOW,
        organizer="R",
    )
    assert all(len(line) <= MAX_OCTETS for line in data.split(b"\r\n"))
    (event,) = _parse(data).walk("VEVENT")
    assert str(event["SUMMARY"]) == (cleaned or "x")


def test_export_writes_every_upcoming_session(engine: Engine, tmp_path: Path) -> None:
    sessions = make_session_factory(engine)
    with Session(engine) as db:
        ids = []
        for days, title in ((12, "Plénière d'hiver"), (5, "Visite, ressourcerie"), (30, "Annulée")):
            row = create_session(
                db,
                SessionDraft(
                    title=title,
                    kind="pleniere",
                    starts_at=NOW + timedelta(days=days),
                    ends_at=NOW + timedelta(days=days, hours=3),
                    capacity=10,
                ),
                platform="console",
                channel_id="general",
                created_by=None,
                network_name="Réseau Ville durable",
                now=NOW,
            )
            ids.append(row.id)
        db.commit()
        cancel_session(db, ids[2], NOW)
        db.commit()
    out = tmp_path / "cal" / "sessions.ics"
    count = export_calendar(
        sessions, out, now=NOW, tz=ZoneInfo("Europe/Paris"), network_name="Réseau"
    )
    assert count == 2
    calendar = _parse(out.read_bytes())
    assert calendar["METHOD"] == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Réseau"
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Visite, ressourcerie", "Plénière d'hiver"]
    assert [str(e["UID"]) for e in events] == [
        f"session-{ids[1]}@reseau-ville-durable.tisserand",
        f"session-{ids[0]}@reseau-ville-durable.tisserand",
    ]
    assert not list(tmp_path.glob("cal/*.part"))
    # Past sessions leave the calendar.
    later = NOW + timedelta(days=6)
    assert export_calendar(sessions, out, now=later, tz=ZoneInfo("Europe/Paris")) == 1
