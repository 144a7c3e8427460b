"""Building an email: headers that cannot be injected, UTF-8 encoded properly, the HTML with its
CSS inlined (css-inline), a plain-text alternative, attachments and calendar parts.

Everything here is the standard library's :mod:`email` package with ``policy.SMTP`` (CRLF lines,
RFC 2047 encoded words for non-ASCII headers): no header is written by hand. Names and subjects
come from people (a member's display name, a session's title), so every header value goes
through :func:`header_text` first: control characters, line breaks included, become spaces, so a
value can never start a header of its own.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_SPACES = re.compile(r"\s{2,}")


def header_text(value: str, limit: int = 200) -> str:
    """``value`` on one line, without control characters, at most ``limit`` characters."""
    flat = _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()
    return flat[:limit].rstrip()


def inline_css(html: str) -> str:
    """The HTML with its ``<style>`` rules moved into ``style`` attributes (mail clients drop
    ``<style>`` blocks), by css-inline."""
    import css_inline

    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False)
    return str(inliner.inline(html))


@dataclass(frozen=True, slots=True)
class Part:
    """An attachment, or a calendar part (``method`` set: ``REQUEST``, ``CANCEL``)."""

    filename: str
    media_type: str
    data: bytes
    method: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "media_type": self.media_type,
            "data": base64.b64encode(self.data).decode("ascii"),
            "method": self.method,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Part:
        return cls(
            filename=str(raw["filename"]),
            media_type=str(raw["media_type"]),
            data=base64.b64decode(raw["data"]),
            method=raw.get("method"),
        )


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who sends to whom, and the list headers of list mail."""

    sender: str
    sender_name: str
    to: str
    to_name: str
    message_id: str
    date: datetime
    reply_to: str | None = None
    list_id: str | None = None
    """``Veille — Réseau <veille.example.org>``: with it, the List-* headers are written."""
    unsubscribe_mailto: str | None = None
    unsubscribe_subject: str | None = None
    unsubscribe_url: str | None = None


def _address(name: str, addr_spec: str) -> Address:
    username, _, domain = addr_spec.rpartition("@")
    return Address(display_name=header_text(name, 100), username=username, domain=domain)


def build_message(
    envelope: Envelope,
    *,
    subject: str,
    text: str,
    html: str | None = None,
    parts: Sequence[Part] = (),
) -> EmailMessage:
    """The message, ready for :meth:`EmailMessage.as_bytes` (``policy.SMTP``)."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = header_text(subject, 250)
    msg["From"] = _address(envelope.sender_name, envelope.sender)
    msg["To"] = _address(envelope.to_name, envelope.to)
    if envelope.reply_to:
        msg["Reply-To"] = _address(envelope.sender_name, envelope.reply_to)
    msg["Date"] = format_datetime(envelope.date)
    msg["Message-ID"] = envelope.message_id
    msg["Auto-Submitted"] = "auto-generated"
    if envelope.list_id:
        msg["List-Id"] = header_text(envelope.list_id, 250)
        links = []
        if envelope.unsubscribe_mailto:
            subject_q = quote(header_text(envelope.unsubscribe_subject or "unsubscribe"))
            links.append(f"<mailto:{envelope.unsubscribe_mailto}?subject={subject_q}>")
        if envelope.unsubscribe_url:
            links.append(f"<{header_text(envelope.unsubscribe_url, 500)}>")
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if links:
            msg["List-Unsubscribe"] = ", ".join(links)
        msg["Precedence"] = "list"
    # Quoted-printable: readable, and 7-bit clean for servers without 8BITMIME.
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    for part in parts:
        if part.method is not None:
            # The calendar alternative is what Outlook and Thunderbird read for accept/decline;
            # the same data as an attachment is for the others.
            msg.add_alternative(
                part.data.decode("utf-8"),
                subtype=part.media_type.partition("/")[2],
                charset="utf-8",
                cte="quoted-printable",
                params={"method": part.method},
            )
    for part in parts:
        main, _, sub = part.media_type.partition("/")
        params = {"method": part.method} if part.method else {}
        msg.add_attachment(
            part.data, maintype=main, subtype=sub, filename=part.filename, params=params
        )
    return msg
