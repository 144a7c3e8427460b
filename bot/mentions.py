"""Mass mentions as each platform reads them, and the one way they are neutralised.

Only the standard library: the feeds sanitiser, the digests and the Rocket.Chat adapter use it.

What the platforms read
    *Rocket.Chat* finds mentions on the server with
    ``(^|\\s|>)@(P(@(P))?(:([0-9a-zA-Z-_.]+))?)`` where ``P`` is the setting
    ``UTF8_User_Names_Validation``, by default ``[0-9a-zA-Z-_.]+``
    (``apps/meteor/app/mentions/lib/MentionsParser.ts``), and notifies the whole room when the
    name read is ``all`` or ``here``. The name is greedy and ASCII: ``@allé``, ``@here日本`` and
    ``@all\\u200b`` are ``@all``/``@here``; ``@all.``, ``@all-x`` and ``@allison`` are not
    (the name read is ``all.``, ``all-x``, ``allison``). Recent servers first delete Markdown
    links (``\\[[^\\]]*\\]\\([^)]+\\)``), so ``@al[x](y)l`` is read as ``@all`` there while older
    servers read the raw text: both readings are checked.
    *Discord* reads ``@everyone`` and ``@here`` wherever they are and whatever follows (its
    ``allowed_mentions`` stays the second fence). ``@everyone`` and ``@channel`` are
    neutralised too for text copied from other chat systems.

How a sign is judged
    Every ``@`` is judged alone, whatever precedes it (so no prefix rule can be dodged with
    ``>``, a non-breaking space or a deleted link), by the raw text and the text with Markdown
    links deleted (the platforms' readings), and by *skeletons* of both: format characters
    (zero-width spaces and joiners, word joiners, bidirectional controls, soft hyphens, tags),
    control characters and fillers left out, compatibility forms folded (NFKC: ``＠ａｌｌ`` is
    ``@all``), lower case; combining marks left out too (``@a\u0301ll``), or kept (then a
    letter followed by one ends a name, as after an NFC: ``@alle\u200b\u0301``). Skeletons
    catch what a later step that strips or folds characters (a client, a bridge, a mailer)
    would turn into a mention. A sign any reader takes for a mass mention gets a zero-width
    joiner (or space) right after it, which no parser reads as part of a name; a sign already
    followed by one is left as it is, so the function is idempotent, and it only ever inserts
    that one character after ``@`` signs. Lookalike letters of other scripts (Cyrillic ``а``)
    are left alone: no platform reads them as ASCII.

Names the caller means (``keep``, the usernames of the members a reply pings) are left alone
when the name read is exactly one of them and not ``all`` or ``here``: a member called
``herehugo`` can be pinged although Discord would read ``@here`` in it.
"""

from __future__ import annotations

import bisect
import re
import string
import unicodedata
from collections.abc import Iterable

from bot.core import InvalidValue

__all__ = [
    "MARKERS",
    "USERNAME_CHARACTERS",
    "ZWJ",
    "ZWSP",
    "markdown_links",
    "mass_mention_signs",
    "neutralize_mass_mentions",
]

ZWJ = "\u200d"
ZWSP = "\u200b"
MARKERS = frozenset((ZWJ, ZWSP))
"""What, right after an ``@``, marks it as neutralised (the Rocket.Chat adapter writes a ZWJ,
the feeds sanitiser a ZWSP)."""

USERNAME_CHARACTERS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.")
"""Rocket.Chat's default ``UTF8_User_Names_Validation`` class, ``[0-9a-zA-Z-_.]``."""

ROCKETCHAT_GROUPS = ("all", "here")
"""Names Rocket.Chat notifies a whole room for."""
DISCORD_GROUPS = ("everyone", "here")
"""Discord reads these after an ``@`` whatever follows them."""
_WHOLE_NAMES = ("all", "here", "everyone", "channel")
"""Neutralised when the name read ends there (``@channel`` and ``@everyone``: copied text)."""

_SIGNS = frozenset("@\uff20\ufe6b")
"""``@`` and what NFKC folds into it (FULLWIDTH and SMALL COMMERCIAL AT)."""
_SIGN = re.compile("[@\uff20\ufe6b]")
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
_MAX_SKIPPED = 64
"""Invisible characters after a sign beyond which it is neutralised without further reading."""
_SUSPICIOUS = "\x00"
"""What a skeleton reader returns for such a sign (never a name character)."""
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _format(char: str) -> bool:
    """Invisible and not a mark: format and control characters (not spaces), fillers."""
    category = unicodedata.category(char)
    return category == "Cf" or (category == "Cc" and not char.isspace()) or char in _FILLERS


def _mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Me", "Mc")


_ASCII_INVISIBLE = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in range(128) if _format(chr(c))) + "]"
)


def markdown_links(text: str) -> list[tuple[int, int]]:
    r"""The ``[start, end)`` spans that recent Rocket.Chat servers delete before they look for
    mentions: the matches of ``/\[[^\]]*\]\([^)]+\)/g``, found in linear time (the regular
    expression is quadratic on a run of ``[``)."""
    spans: list[tuple[int, int]] = []
    if "](" not in text:
        return spans
    start = text.find("[")
    while start >= 0:
        close = text.find("]", start + 1)
        if close < 0:
            break
        # Every "[" before ``close`` ends its label at ``close`` too: one test for them all.
        if text.startswith("(", close + 1):
            paren = text.find(")", close + 2)
            if paren < 0:
                break
            if paren > close + 2:
                spans.append((start, paren + 1))
                start = text.find("[", paren + 1)
                continue
        start = text.find("[", close + 1)
    return spans


class _Links:
    """The Markdown links recent Rocket.Chat servers delete, as sorted ``[start, end)`` spans."""

    def __init__(self, text: str) -> None:
        spans = markdown_links(text)
        self.starts = [start for start, _ in spans]
        self.ends = [end for _, end in spans]

    def __bool__(self) -> bool:
        return bool(self.starts)

    def end_of(self, index: int) -> int | None:
        """The end of the link ``index`` is in, or None."""
        at = bisect.bisect_right(self.starts, index) - 1
        return self.ends[at] if at >= 0 and index < self.ends[at] else None


_NO_LINKS = _Links("")
_SIZE = max(len(name) for name in _WHOLE_NAMES) + 2
"""Characters read after a sign: the longest name, then what ends it and a combining mark."""


_RAW, _FOLDED, _FOLDED_MARKS = range(3)
"""Readers: the text as it is; its skeleton (invisible characters and marks left out, NFKC,
lower case); the same keeping combining marks (what an NFC after a strip would compose)."""


def _after(text: str, index: int, size: int, links: _Links, mode: int) -> str:
    """Up to ``size`` characters the reader ``mode`` sees after the sign at ``index``, with
    ``links`` deleted."""
    seen: list[str] = []
    length = 0
    skipped = 0
    position = index + 1
    end = len(text)
    while position < end and length < size:
        if links:
            link_end = links.end_of(position)
            if link_end is not None:
                position = link_end
                continue
        char = text[position]
        position += 1
        if mode == _RAW:
            seen.append(char)
            length += 1
        elif _format(char) or (mode == _FOLDED and _mark(char)):
            skipped += 1
            if skipped > _MAX_SKIPPED:
                return _SUSPICIOUS
        else:
            folded = char.lower() if char.isascii() else unicodedata.normalize("NFKC", char).lower()
            seen.append(folded)
            length += len(folded)
    return "".join(seen)


def _name_ends(after: str, length: int) -> bool:
    """Whether Rocket.Chat's name stops after ``length`` characters of ``after``."""
    if length >= len(after):
        return True
    if after[length] not in USERNAME_CHARACTERS:
        return True
    # A letter followed by a combining mark may compose into a letter outside the class.
    return length + 1 < len(after) and _mark(after[length + 1])


def _is_group(after: str, keep: tuple[str, ...]) -> bool:
    if after == _SUSPICIOUS:
        return True
    lowered = after.translate(_ASCII_LOWER)
    for name in keep:
        if lowered.startswith(name) and _name_ends(after, len(name)):
            return False
    if lowered.startswith(DISCORD_GROUPS):
        return True
    return any(lowered.startswith(name) and _name_ends(after, len(name)) for name in _WHOLE_NAMES)


_PLAIN_GROUP = re.compile(
    r"@(?=everyone|here|(?:all|channel)(?![0-9a-z._-]))", re.IGNORECASE | re.ASCII
)
"""What every reader finds in an ASCII text without control characters or Markdown link, when
no name is kept: the raw reading alone (the skeleton is the lower case), in one pass."""


def mass_mention_signs(text: str, *, keep: Iterable[str] = ()) -> list[int]:
    """Indexes of the ``@`` signs of ``text`` some reader takes for a mass mention, in order."""
    if "@" not in text and "\uff20" not in text and "\ufe6b" not in text:
        return []
    if not keep and "](" not in text and text.isascii() and not _ASCII_INVISIBLE.search(text):
        return [match.start() for match in _PLAIN_GROUP.finditer(text)]
    return _signs(text, keep)


def _signs(text: str, keep: Iterable[str]) -> list[int]:
    """:func:`mass_mention_signs` with every reader."""
    kept = tuple(
        lowered
        for lowered in (name.translate(_ASCII_LOWER) for name in keep)
        if lowered and lowered not in ROCKETCHAT_GROUPS
    )
    size = max(_SIZE, *(len(name) + 2 for name in kept)) if kept else _SIZE
    links = _Links(text) if "](" in text else _NO_LINKS
    # The skeleton of an ASCII text without control characters is its lower case, which the
    # raw readers already compare with.
    plain = text.isascii() and _ASCII_INVISIBLE.search(text) is None
    found: list[int] = []
    for match in _SIGN.finditer(text):
        index = match.start()
        char = match.group()
        if index + 1 < len(text) and text[index + 1] in MARKERS:
            continue  # already neutralised
        visible_without_links = bool(links) and links.end_of(index) is None
        readers: list[tuple[_Links, int]] = []
        if char == "@":
            readers.append((_NO_LINKS, _RAW))
            if visible_without_links:
                readers.append((links, _RAW))
        if not plain:
            for mode in (_FOLDED, _FOLDED_MARKS):
                readers.append((_NO_LINKS, mode))
                if visible_without_links:
                    readers.append((links, mode))
        for reader_links, mode in readers:
            if _is_group(_after(text, index, size, reader_links, mode), kept):
                found.append(index)
                break
    return found


def neutralize_mass_mentions(text: str, *, marker: str = ZWJ, keep: Iterable[str] = ()) -> str:
    """``text`` with ``marker`` (a zero-width joiner by default) after each ``@`` that a
    platform could read as a mass mention; see the module's documentation."""
    if marker not in MARKERS:
        raise InvalidValue("the marker must be a zero-width joiner or space")
    signs = mass_mention_signs(text, keep=keep)
    if not signs:
        return text
    parts: list[str] = []
    last = 0
    for index in signs:
        parts.append(text[last : index + 1])
        parts.append(marker)
        last = index + 1
    parts.append(text[last:])
    return "".join(parts)
