"""A session's calendar file as an email invitation (RFC 5546 iTIP over RFC 6047 iMIP).

The sessions family writes ``METHOD:PUBLISH`` files (``CANCEL`` once cancelled) for the chat;
by email the same event goes out as ``METHOD:REQUEST`` with the network as ``ORGANIZER`` and the
recipient as ``ATTENDEE`` (``RSVP=TRUE``), so Outlook and Thunderbird show accept and decline.
The UID and SEQUENCE are the sessions family's: an update carries a higher SEQUENCE, a
cancellation ``METHOD:CANCEL``, with the same UID.

Only the lines this module writes are touched (METHOD, ORGANIZER, ATTENDEE); content lines are
unfolded first and folded again at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character.
"""

from __future__ import annotations

import re

from bot.mail.message import header_text

_UNFOLD = re.compile(r"\r?\n[ \t]")
MAX_OCTETS = 75


def _fold(line: str) -> str:
    pieces: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode("utf-8")
        limit = MAX_OCTETS if not pieces else MAX_OCTETS - 1
        if len(current) + len(encoded) > limit:
            pieces.append(current.decode("utf-8"))
            current = b""
        current += encoded
    pieces.append(current.decode("utf-8"))
    return "\r\n ".join(pieces)


def _param(value: str) -> str:
    """A quoted parameter value: no control characters, no DQUOTE (RFC 5545 §3.2)."""
    return '"' + header_text(value, 100).replace('"', "'") + '"'


def invitation(
    ics: bytes,
    *,
    method: str,
    organizer: str,
    organizer_name: str,
    attendee: str,
    attendee_name: str,
) -> bytes:
    """``ics`` with ``METHOD:<method>``, the organizer and this one attendee."""
    lines = _UNFOLD.sub("", ics.decode("utf-8")).replace("\r\n", "\n").split("\n")
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        name = re.split(r"[;:]", line, maxsplit=1)[0].upper()
        if name in ("ORGANIZER", "ATTENDEE"):
            continue
        if name == "METHOD":
            line = f"METHOD:{method}"
        out.append(line)
        if line.upper() == "BEGIN:VEVENT":
            out.append(f"ORGANIZER;CN={_param(organizer_name)}:mailto:{organizer}")
            rsvp = ";RSVP=TRUE" if method == "REQUEST" else ""
            out.append(
                f"ATTENDEE;CN={_param(attendee_name)};ROLE=REQ-PARTICIPANT;"
                f"PARTSTAT=NEEDS-ACTION{rsvp}:mailto:{attendee}"
            )
    if not any(line.upper().startswith("METHOD:") for line in out):
        out.insert(1, f"METHOD:{method}")
    return ("\r\n".join(_fold(line) for line in out) + "\r\n").encode("utf-8")
