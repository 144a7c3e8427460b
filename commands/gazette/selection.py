"""Which draft items a coordinator names: numbers, ranges and whole sections.

``3 5 7``, ``3,5``, ``5-7`` (or ``5..7``, ``5–7``) and section words (``nouveaux``, ``pepites``,
``seances``, ``sondages``, ``veille``, or their English names). Numbers are the items' stable
numbers (:attr:`bot.storage.highlights.GazetteItem.number`), as the draft list shows them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.context import Context
from bot.i18n import fold
from bot.storage.highlights import Gazette, GazetteItem, ItemKind
from commands.gazette.draft import ordered_items
from commands.gazette.errors import NoSuchItem, NotASelection, NothingSelected

SECTION_WORDS: dict[str, ItemKind] = {
    "pepites": ItemKind.HIGHLIGHT,
    "pepite": ItemKind.HIGHLIGHT,
    "highlights": ItemKind.HIGHLIGHT,
    "citations": ItemKind.HIGHLIGHT,
    "seances": ItemKind.SESSION,
    "seance": ItemKind.SESSION,
    "sessions": ItemKind.SESSION,
    "sondages": ItemKind.POLL,
    "decisions": ItemKind.POLL,
    "polls": ItemKind.POLL,
    "veille": ItemKind.VEILLE,
    "lectures": ItemKind.VEILLE,
    "reading": ItemKind.VEILLE,
    "nouveaux": ItemKind.NEWCOMER,
    "nouveaux-membres": ItemKind.NEWCOMER,
    "bienvenue": ItemKind.NEWCOMER,
    "newcomers": ItemKind.NEWCOMER,
}
SECTION_HINT = {"fr": "nouveaux, pepites, seances, sondages, veille"}
SECTION_HINT_EN = "newcomers, highlights, sessions, polls, reading"

_RANGE = re.compile(r"^#?(\d{1,6})\s*(?:-|\.\.|–|—)\s*#?(\d{1,6})$")
_NUMBER = re.compile(r"^#?(\d{1,6})$")


def split_selection(words: Sequence[str]) -> list[str]:
    """``["3,5", "7-9"]`` -> ``["3", "5", "7-9"]``."""
    parts: list[str] = []
    for word in words:
        parts.extend(p for p in re.split(r"[,;]", str(word)) if p.strip())
    return [p.strip() for p in parts]


def select_items(ctx: Context, gazette: Gazette, words: Sequence[str]) -> list[GazetteItem]:
    """The items named by ``words``, in the order named, each once; a clear error otherwise."""
    items = ordered_items(gazette)
    by_number = {item.number: item for item in items}
    chosen: list[GazetteItem] = []
    seen: set[int] = set()

    def take(item: GazetteItem) -> None:
        if item.number not in seen:
            seen.add(item.number)
            chosen.append(item)

    for word in split_selection(words):
        single = _NUMBER.match(word)
        span = _RANGE.match(word)
        if single:
            number = int(single.group(1))
            if number not in by_number:
                raise NoSuchItem(ctx.t, number, len(items))
            take(by_number[number])
        elif span:
            low, high = sorted((int(span.group(1)), int(span.group(2))))
            inside = [item for item in items if low <= item.number <= high]
            if not inside:
                raise NoSuchItem(ctx.t, low, len(items))
            for item in sorted(inside, key=lambda i: i.number):
                take(item)
        elif fold(word) in SECTION_WORDS:
            kind = SECTION_WORDS[fold(word)]
            for item in items:
                if ItemKind(item.kind) is kind:
                    take(item)
        else:
            hint = SECTION_HINT.get(ctx.t.locale, SECTION_HINT_EN)
            raise NotASelection(ctx.t, word, hint)
    if not chosen:
        raise NothingSelected(ctx.t)
    return chosen


def item_numbered(ctx: Context, gazette: Gazette, number: int) -> GazetteItem:
    for item in gazette.items:
        if item.number == number:
            return item
    raise NoSuchItem(ctx.t, number, len(gazette.items))
