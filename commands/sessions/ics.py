"""iCalendar (RFC 5545) files for sessions, written by hand: pure functions, no I/O.

Choices (see also docs/design.md, "Sessions"):

- Times are written in UTC (``DTSTART:20261203T130000Z``): unambiguous across DST changes and
  needing no VTIMEZONE block; every calendar application shows them in the reader's own zone.
  ``X-WR-TIMEZONE`` names the network's zone for the applications that use it.
- ``UID`` is fixed when the session is created (``session-12@<network slug>.tisserand``) and
  ``SEQUENCE`` grows with every change, so an updated file replaces the event in place.
- ``METHOD:PUBLISH`` for announcements, confirmations, updates and the exported calendar;
  ``METHOD:CANCEL`` with ``STATUS:CANCELLED`` when a session is cancelled. ``REQUEST`` is not used:
  RFC 5546 requires an ``ATTENDEE`` address for it, and members have no e-mail address here.
  ``ORGANIZER`` (required by RFC 5546 for PUBLISH and CANCEL) names the network with a
  non-deliverable ``mailto:noreply@tisserand.invalid`` address.
- Lines end with CRLF and are folded at 75 octets without splitting a UTF-8 character; TEXT
  values escape backslash, semicolon, comma and newlines.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core import InvalidValue

PRODID = "-//Tisserand//Sessions 1.0//FR"
ORGANIZER_ADDRESS = "mailto:noreply@tisserand.invalid"
MAX_OCTETS = 75
MEDIA_TYPE = "text/calendar"


class Method(enum.StrEnum):
    PUBLISH = "PUBLISH"
    CANCEL = "CANCEL"


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One VEVENT; datetimes are aware (written in UTC)."""

    uid: str
    sequence: int
    title: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    location: str | None = None
    url: str | None = None
    categories: tuple[str, ...] = ()
    cancelled: bool = False


def slugify(text: str) -> str:
    """``Réseau Ville durable`` -> ``reseau-ville-durable`` (used in UIDs)."""
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug or "network"


def session_uid(session_id: int, network_name: str) -> str:
    return f"session-{session_id}@{slugify(network_name)}.tisserand"


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): ``\\`` ``;`` ``,`` and newlines escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\n", "\\n")


def _param_value(value: str) -> str:
    """A parameter value: quoted when it holds ``:;,``; double quotes and controls dropped."""
    cleaned = "".join(c for c in value if c != '"' and unicodedata.category(c)[0] != "C")
    return f'"{cleaned}"' if any(c in cleaned for c in ":;,") else cleaned


def fold(line: str) -> str:
    """Fold one content line at 75 octets (continuations start with a space); CRLF-terminated."""
    data = line.encode("utf-8")
    pieces: list[bytes] = []
    limit = MAX_OCTETS
    while len(data) > limit:
        cut = limit
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # never inside a UTF-8 sequence
            cut -= 1
        pieces.append(data[:cut])
        data = data[cut:]
        limit = MAX_OCTETS - 1  # the leading space counts
    pieces.append(data)
    return "\r\n ".join(piece.decode("utf-8") for piece in pieces) + "\r\n"


def format_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise InvalidValue("naive datetimes cannot be written; give an aware one")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event_lines(event: CalendarEvent, *, now: datetime, organizer: str) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{format_utc(now)}",
        f"CREATED:{format_utc(event.created_at)}",
        f"LAST-MODIFIED:{format_utc(event.updated_at)}",
        f"DTSTART:{format_utc(event.starts_at)}",
        f"DTEND:{format_utc(event.ends_at)}",
        f"SUMMARY:{escape_text(event.title)}",
        f"ORGANIZER;CN={_param_value(organizer)}:{ORGANIZER_ADDRESS}",
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.url:
        lines.append(f"URL:{_uri(event.url)}")
    if event.categories:
        lines.append("CATEGORIES:" + ",".join(escape_text(c) for c in event.categories))
    lines.append("END:VEVENT")
    return lines


def _uri(value: str) -> str:
    """A URI value is not escaped; characters that would break the line are percent-encoded."""
    return "".join(c if c.isprintable() and not c.isspace() else f"%{ord(c):02X}" for c in value)


def build_calendar(
    events: Iterable[CalendarEvent],
    *,
    method: Method,
    now: datetime,
    organizer: str,
    name: str | None = None,
    tz_name: str | None = None,
) -> bytes:
    """A complete VCALENDAR as UTF-8 bytes, CRLF line endings, folded lines."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method.value}",
    ]
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    if tz_name:
        lines.append(f"X-WR-TIMEZONE:{escape_text(tz_name)}")
    for event in events:
        if method is Method.CANCEL and not event.cancelled:
            raise InvalidValue("a CANCEL calendar only carries cancelled events")
        lines.extend(_event_lines(event, now=now, organizer=organizer))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines).encode("utf-8")
