"""Reading what users give the highlights: themes, message references, a message menu's target."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from bot.context import Context
from bot.core import CommandEvent
from bot.i18n import fold

MAX_THEMES = 6
MAX_THEME_LENGTH = 40


def parse_themes(raw: str | None) -> list[str]:
    """``"eau, Mobilité ;#climat"`` -> ``["eau", "Mobilité", "climat"]`` (deduplicated)."""
    if not raw:
        return []
    themes: list[str] = []
    seen: set[str] = set()
    for part in re.split(r"[,;]", raw):
        theme = " ".join(part.strip().lstrip("#").split())[:MAX_THEME_LENGTH]
        if theme and fold(theme) not in seen:
            seen.add(fold(theme))
            themes.append(theme)
    return themes[:MAX_THEMES]


def merge_themes(old: Sequence[str], new: Sequence[str]) -> list[str]:
    merged = list(old)
    known = {fold(t) for t in old}
    for theme in new:
        if fold(theme) not in known:
            known.add(fold(theme))
            merged.append(theme)
    return merged[:MAX_THEMES]


_DIGITS = re.compile(r"^(?:n[°o]\s*|#)?(\d{1,20})$", re.IGNORECASE)


def parse_message_ref(raw: str) -> tuple[str, str | None] | None:
    """The message id named by ``raw`` and the link it came from, if it was one.

    ``12``, ``#12``, ``n°12`` (console numbers); a Discord message link
    (``.../channels/<guild>/<channel>/<message>``); a Rocket.Chat link (``...?msg=<id>``).
    """
    text = raw.strip()
    match = _DIGITS.match(text)
    if match:
        return match.group(1), None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    message = parse_qs(parts.query).get("msg")
    if message and message[0].strip():
        return message[0].strip(), text
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) >= 4 and segments[-4] == "channels" and segments[-1].isdigit():
        return segments[-1], text
    return None


@dataclass(frozen=True)
class MenuTarget:
    """The message a context menu ("Ajouter à la gazette") was opened on, as the platform gave it."""

    message_id: str
    text: str
    author_id: str
    author_name: str
    link: str | None
    said_at: datetime | None
    images: tuple[str, ...]


def menu_target(ctx: Context) -> MenuTarget | None:
    """The target message when the command came from a message context menu, else None."""
    event = ctx.event
    if not isinstance(event, CommandEvent) or not event.options or event.ref is None:
        return None
    options = event.options
    if "message_text" not in options:
        return None
    said_at: datetime | None = None
    if options.get("message_at"):
        try:
            said_at = datetime.fromisoformat(str(options["message_at"]))
        except ValueError:
            said_at = None
        if said_at is not None and said_at.tzinfo is None:
            said_at = said_at.replace(tzinfo=UTC)
    raw_images = options.get("message_images") or ()
    images = (raw_images,) if isinstance(raw_images, str) else tuple(map(str, raw_images))
    return MenuTarget(
        message_id=str(options.get("target_id") or event.ref.message_id),
        text=str(options.get("message_text") or ""),
        author_id=str(options.get("message_author_id") or ""),
        author_name=str(options.get("message_author_name") or "").strip(),
        link=str(options["message_link"]) if options.get("message_link") else None,
        said_at=said_at,
        images=tuple(url for url in images if url.strip()),
    )
