"""A bound on untrusted HTML before nh3 reads it.

nh3 parses with html5ever, which walks its stack of open elements whenever a block element
opens: a fragment nesting 100,000 ``<div>`` (or ``<ul>``, ``<blockquote>``) takes half a minute
of CPU, quadratic in the depth. So a fragment whose elements nest deeper than
:data:`MAX_DEPTH` is flattened to its text (escaped), which nh3 reads in linear time: such a
fragment is hostile or broken, and its text is what a digest shows anyway.

The depth is over-estimated in linear time, from the tags alone: every start tag counts but void
elements (``<br>``) and elements whose end tag is optional and that html5ever closes when a
sibling opens (``<p>``, ``<li>``, ``<td>``...); every end tag closes one.
"""

from __future__ import annotations

import html
import re

__all__ = ["MAX_DEPTH", "bounded", "too_deep"]

MAX_DEPTH = 256
"""Deepest nesting of elements given to nh3 as it is (libxml2's own limit for XML)."""

_NOT_NESTING = frozenset(
    {
        # void elements
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        # closed by a sibling (optional end tags)
        "p",
        "li",
        "dt",
        "dd",
        "option",
        "optgroup",
        "tr",
        "td",
        "th",
        "tbody",
        "thead",
        "tfoot",
        "colgroup",
        "rb",
        "rt",
        "rp",
    }
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_MARKUP = re.compile(r"<[^<>]*>")
"""A tag, or anything between ``<`` and ``>``; never scans past the next ``<`` (linear)."""


def too_deep(markup: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the elements of ``markup`` may nest deeper than ``limit``."""
    if markup.count("<") <= limit:
        return False
    depth = 0
    for match in _TAG.finditer(markup):
        if match.group(1):
            if depth:
                depth -= 1
        elif match.group(2).lower() not in _NOT_NESTING:
            depth += 1
            if depth > limit:
                return True
    return False


def bounded(markup: str, limit: int = MAX_DEPTH) -> str:
    """``markup`` as it is, or, when it nests deeper than ``limit``, its text as escaped HTML."""
    if not too_deep(markup, limit):
        return markup
    text = " ".join(html.unescape(_MARKUP.sub(" ", markup)).split())
    return html.escape(text, quote=False)
