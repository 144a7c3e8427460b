"""Short texts the family's chat answers share."""

from __future__ import annotations

from bot.i18n import Translator

EXCERPT = 280


def excerpt(text: str, limit: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def size_text(t: Translator, size: int) -> str:
    if size >= 1024 * 1024:
        return t.gettext("{size} MB", size=t.number(round(size / (1024 * 1024), 1)))
    return t.gettext("{size} KB", size=t.number(max(1, round(size / 1024))))
