"""A source's own categories mapped to the network's themes.

A feed files its entries under categories of its own (``<category>Alimentation durable``); a
coordinator maps some of them to the network's themes (``/veille categories 3 "alimentation
durable=Alimentation"``). An entry with a mapped category takes that theme; the others keep the
source's theme. Stored on the source as text, one ``category=Theme`` per line, categories
compared folded (case, accents, spaces).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.i18n import fold

__all__ = ["MAX_MAPPINGS", "entry_theme", "format_theme_map", "parse_theme_map", "read_pairs"]

MAX_MAPPINGS = 50


def read_pairs(pairs: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """``category=Theme`` texts as a mapping, and the texts that are not of that form."""
    mapping: dict[str, str] = {}
    bad: list[str] = []
    for pair in pairs:
        category, sep, theme = pair.partition("=")
        category, theme = category.strip(), theme.strip()
        if not sep or not category or not theme or len(category) > 100 or len(theme) > 100:
            bad.append(pair)
            continue
        mapping[category] = theme
    return mapping, bad


def format_theme_map(mapping: Mapping[str, str]) -> str | None:
    """The stored text of a mapping (None when empty)."""
    lines = [f"{category}={theme}" for category, theme in mapping.items()]
    return "\n".join(lines) or None


def parse_theme_map(text: str | None) -> dict[str, str]:
    """The stored text back as a mapping (category as written -> theme)."""
    mapping, _ = read_pairs(line for line in (text or "").splitlines() if line.strip())
    return mapping


def entry_theme(
    categories: Iterable[str], theme_map: str | None, default: str | None
) -> str | None:
    """The theme of an entry: the first of its categories the source maps, else ``default``."""
    if not theme_map:
        return default
    folded = {fold(category): theme for category, theme in parse_theme_map(theme_map).items()}
    for category in categories:
        theme = folded.get(fold(category))
        if theme:
            return theme
    return default
