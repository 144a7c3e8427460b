"""One hardened configuration for every XML document the bot reads (OPML files, feeds).

- **The parser**: lxml's ``XMLParser`` with ``resolve_entities=False`` (an entity is never
  replaced by its text), ``no_network=True``, ``load_dtd=False`` (no external DTD or entity is
  ever read), no DTD validation or attribute defaults, and ``huge_tree=False``, which keeps
  libxml2's own limits: elements nest at most :data:`MAX_DEPTH` deep, a text node is at most
  10 MB, and entity amplification is capped.
- **No DTD, checked after decoding.** A document declaring entities is refused before any parser
  sees it, whatever its encoding: the text before the root element is decoded as every reader
  could decode it (the byte order mark or the NUL pattern of UTF-16 and UTF-32 without one,
  EBCDIC, the XML declaration's ``encoding`` — UTF-7 spells ``<`` as ``+ADw-`` —, the HTTP
  charset, and any ASCII-compatible encoding), and an ``<!ENTITY`` or a ``<!DOCTYPE`` in any of
  those readings refuses the document (an ``<!ENTITY`` even in a comment: feedparser finds them
  with a regular expression and declares them again). A check of the raw bytes misses them in
  UTF-16. Feeds may keep a DOCTYPE without internal subset (RSS 0.91's
  ``<!DOCTYPE rss PUBLIC ...>``): it is never loaded, and it declares nothing. After parsing, a
  document whose tree still carries an internal subset is refused too.
- **Depth.** A tree is built only by lxml, whose limit applies; for a document another parser
  reads (feedparser), :func:`refuse_depth` counts the nesting with the same hardened parser,
  without building a tree (and recovering from errors, as feedparser's loose parser would).
- **Size.** Callers pass their own ``max_bytes``.

Refusals raise :class:`UnsafeXml`; a document that is merely not well-formed raises lxml's
``XMLSyntaxError`` (re-exported here).

defusedxml was not used: it wraps the standard library's parsers (and its lxml support is
deprecated), while feeds are read with lxml and feedparser; and it checks DTDs while parsing,
which cannot protect feedparser's own parse of the same bytes.
"""

from __future__ import annotations

import codecs
import re
import string
from collections.abc import Iterator
from typing import Any, Literal

from lxml import etree

from bot.core import TisserandError

__all__ = [
    "MAX_DEPTH",
    "UnsafeXml",
    "XMLSyntaxError",
    "check",
    "fromstring",
    "parser",
    "readings",
    "refuse_depth",
    "refuse_dtd",
]

MAX_DEPTH = 256
"""Deepest nesting of elements (libxml2's limit without ``huge_tree``)."""

XMLSyntaxError = etree.XMLSyntaxError

UnsafeReason = Literal["dtd", "too_deep", "too_large", "encoding"]


class UnsafeXml(TisserandError):
    """A document refused for safety: ``reason`` is ``dtd`` (entities or an internal subset),
    ``too_deep``, ``too_large`` or ``encoding`` (declared in an encoding Python cannot read,
    so the document cannot be checked); ``detail`` is English, for logs."""

    def __init__(self, reason: UnsafeReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: UnsafeReason = reason
        self.detail = detail


def parser(**options: Any) -> etree.XMLParser:
    """The hardened parser; ``options`` may add harmless ones (``remove_comments``...)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        **options,
    )


# --- the text before the root element, as every reader could decode it -------------------------

_HEAD = 65_536
"""Bytes decoded first to find the root element (the whole document if it is not there)."""
_DECLARED = re.compile(r"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_ROOT_START = frozenset(string.ascii_letters + "_")
_ENTITY = re.compile(r"<!\s*entity", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!\s*doctype", re.IGNORECASE)


def _sniffed(data: bytes) -> str | None:
    """The encoding the first bytes show: a byte order mark, or ``<`` in UTF-16/32 or EBCDIC."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = data[:4]
    if len(head) < 4:
        return None
    if head[:3] == b"\0\0\0" and head[3]:
        return "utf-32-be"
    if head[0] and head[1:] == b"\0\0\0":
        return "utf-32-le"
    if not head[0] and head[1] and not head[2]:
        return "utf-16-be"
    if head[0] and not head[1] and head[2] and not head[3]:
        return "utf-16-le"
    if head == b"\x4c\x6f\xa7\x94":
        return "cp037"
    return None


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def readings(data: bytes, charset: str | None = None) -> tuple[list[str], list[str]]:
    """``(codecs, unknown)``: the Python codecs a reader could decode ``data`` with, and the
    encodings named by the document or ``charset`` that Python does not know."""
    names: list[str] = []
    unknown: list[str] = []

    def add(name: str | None) -> None:
        if not name:
            return
        codec = _codec(name)
        if codec is None:
            unknown.append(name)
        elif codec not in names:
            names.append(codec)

    sniffed = _sniffed(data)
    add(sniffed)
    add("latin-1")  # every ASCII-compatible encoding, as far as markup goes
    for codec in list(names):
        match = _DECLARED.search(data[:4096].decode(codec, "replace").lstrip("\ufeff"))
        if match:
            add(match.group(1))
    add(charset)
    return names, unknown


def _root(text: str) -> int | None:
    """Where the root element starts (comments and processing instructions skipped)."""
    position = 0
    while True:
        start = text.find("<", position)
        if start < 0:
            return None
        if text.startswith("<!--", start):
            end = text.find("-->", start + 4)
            if end < 0:
                return None
            position = end + 3
        elif text.startswith("<?", start):
            end = text.find("?>", start + 2)
            if end < 0:
                return None
            position = end + 2
        elif text[start + 1 : start + 2] in _ROOT_START:
            return start
        else:
            position = start + 1


def _prologs(data: bytes, codecs_: list[str]) -> Iterator[str]:
    """The text before the root element in each reading."""
    for codec in codecs_:
        text = data[:_HEAD].decode(codec, "replace")
        root = _root(text)
        if root is None and len(data) > _HEAD:
            text = data.decode(codec, "replace")
            root = _root(text)
        yield text if root is None else text[:root]


def _without_comments(text: str) -> str:
    parts: list[str] = []
    position = 0
    while (start := text.find("<!--", position)) >= 0:
        parts.append(text[position:start])
        end = text.find("-->", start + 4)
        if end < 0:
            return "".join(parts)
        position = end + 3
    parts.append(text[position:])
    return "".join(parts)


def _internal_subset(prolog: str, start: int) -> bool:
    """Whether the DOCTYPE at ``start`` has an internal subset (or never ends)."""
    quote = ""
    for char in prolog[start + 2 :]:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "[":
            return True
        elif char == ">":
            return False
    return True


def refuse_dtd(
    data: bytes, *, charset: str | None = None, allow_external_doctype: bool = False
) -> list[str]:
    """Raise :class:`UnsafeXml` (``dtd``) when a reading of ``data`` declares entities or
    has a DOCTYPE (one with an internal subset only, with ``allow_external_doctype``).

    Returns the encodings named by the document (or ``charset``) that Python does not know:
    a reader that knows one could see what was not checked (feedparser cannot: it uses Python's
    codecs and falls back to ASCII-compatible ones, which are checked).
    """
    codecs_, unknown = readings(data, charset)
    for prolog in _prologs(data, codecs_):
        # An entity declaration anywhere before the root, even in a comment: feedparser looks
        # for them with a regular expression and declares them again in a DOCTYPE of its own.
        if _ENTITY.search(prolog):
            raise UnsafeXml("dtd", "entity declaration")
        # A DOCTYPE in a comment declares nothing (and feedparser just removes it).
        visible = _without_comments(prolog)
        for match in _DOCTYPE.finditer(visible):
            if not allow_external_doctype or _internal_subset(visible, match.start()):
                raise UnsafeXml("dtd", "document type declaration")
    return unknown


# --- depth and parsing --------------------------------------------------------------------------


class _TooDeep(TisserandError):
    pass


class _Depth:
    """A parser target that only counts how deep elements nest."""

    def __init__(self, limit: int) -> None:
        self.depth = 0
        self.limit = limit

    def start(self, *_: Any) -> None:
        self.depth += 1
        if self.depth > self.limit:
            raise _TooDeep

    def end(self, *_: Any) -> None:
        self.depth -= 1

    def close(self) -> None:
        return None


def refuse_depth(data: bytes, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`UnsafeXml` (``too_deep``) when elements of ``data`` nest deeper than
    ``max_depth`` (no tree is built; errors are recovered from)."""
    try:
        etree.fromstring(data, parser(target=_Depth(max_depth), recover=True))
    except _TooDeep:
        raise UnsafeXml("too_deep", f"elements nest deeper than {max_depth}") from None
    except (XMLSyntaxError, ValueError):
        return  # not XML at all: nothing nests


def _size(data: bytes, max_bytes: int | None) -> None:
    if max_bytes is not None and len(data) > max_bytes:
        raise UnsafeXml("too_large", f"over {max_bytes} bytes")


def check(
    data: bytes,
    *,
    charset: str | None = None,
    max_bytes: int | None = None,
    allow_external_doctype: bool = False,
) -> None:
    """Everything :func:`fromstring` checks, for a document another parser will read: size,
    no DTD in any reading, depth. Raises :class:`UnsafeXml`."""
    _size(data, max_bytes)
    refuse_dtd(data, charset=charset, allow_external_doctype=allow_external_doctype)
    refuse_depth(data)


def fromstring(
    data: bytes,
    *,
    charset: str | None = None,
    max_bytes: int | None = None,
    allow_external_doctype: bool = False,
    **options: Any,
) -> Any:
    """The root element of ``data`` parsed by the hardened :func:`parser` (``options`` added).

    Raises :class:`UnsafeXml` for a document too large, declaring a DTD in any reading, naming
    an encoding Python does not know, or nesting deeper than :data:`MAX_DEPTH`;
    ``XMLSyntaxError`` when it is not well-formed.
    """
    _size(data, max_bytes)
    unknown = refuse_dtd(data, charset=charset, allow_external_doctype=allow_external_doctype)
    if unknown:  # libxml2 may know it (through iconv): what it would read was not checked
        raise UnsafeXml("encoding", f"unknown encoding {unknown[0]!r}")
    try:
        root = etree.fromstring(data, parser(**options))
    except XMLSyntaxError as exc:
        if exc.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
            reason: UnsafeReason = "too_deep" if "depth" in str(exc).lower() else "too_large"
            raise UnsafeXml(reason, str(exc)) from None
        raise
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None:
        raise UnsafeXml("dtd", "internal subset")
    if docinfo.doctype and not allow_external_doctype:
        raise UnsafeXml("dtd", "document type declaration")
    return root
