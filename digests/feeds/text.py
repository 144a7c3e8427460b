"""Text and HTML made safe: plain text on one line, sanitised HTML (nh3), mass mentions
neutralised, links validated and made canonical, hashes of links."""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
import unicodedata
from urllib.parse import urljoin

import nh3

from bot.mentions import ZWSP, neutralize_mass_mentions
from digests.safehtml import bounded as bounded_html
from digests.urls import FetchError, canonical_url, validate_url

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "cite",
    "code",
    "dd",
    "dl",
    "dt",
    "em",
    "figcaption",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "strong",
    "sub",
    "sup",
    "u",
    "ul",
}
_HTML_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style", "template", "noscript"},
    attributes={"a": {"href", "title"}, "abbr": {"title"}},
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)
_TEXT_CLEANER = nh3.Cleaner(
    tags=set(),
    clean_content_tags={"script", "style", "template", "noscript"},
    attributes={},
    strip_comments=True,
)
_BLOCK_BOUNDARY = re.compile(
    r"<(?=/?(?:br|p|div|li|ul|ol|h[1-6]|tr|td|th|blockquote|pre|section|article|dd|dt)\b)",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACES = re.compile(r"\s+")
_TAG_LIKE = re.compile(r"<(?=[A-Za-z!/?@#&])")


def neutralize_mentions(text: str) -> str:
    """``@everyone`` -> ``@\u200beveryone`` (and ``@here``, ``@all``, ``@channel``: every mass
    mention :mod:`bot.mentions` knows)."""
    return neutralize_mass_mentions(text, marker=ZWSP)


_C1 = re.compile(r"[\x80-\x9f]")


def _windows_1252(match: re.Match[str]) -> str:
    """A C1 control character is almost always a Windows-1252 character decoded as Latin-1."""
    try:
        return bytes([ord(match.group())]).decode("cp1252")
    except UnicodeDecodeError:
        return ""


def _clean_text(text: str, limit: int | None) -> str:
    text = _C1.sub(_windows_1252, text)
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        cut = text[: limit - 1]
        space = cut.rfind(" ")
        if space > limit * 0.6:
            cut = cut[:space]
        text = cut.rstrip(" ,;:.-") + "…"
    # Text that looks like a tag or a platform mention (``<script``, ``<@123>``) is defanged
    # with a look-alike so no renderer ever reads it as markup.
    text = _TAG_LIKE.sub("‹", text)
    return neutralize_mentions(text)


def plain_text(markup: str, limit: int | None = None) -> str:
    """Visible text of an HTML fragment, on one line, at most ``limit`` characters."""
    if not markup:
        return ""
    spaced = _BLOCK_BOUNDARY.sub(" <", bounded_html(markup))
    return _clean_text(html.unescape(_TEXT_CLEANER.clean(spaced)), limit)


def clean_text(text: str, limit: int | None = None) -> str:
    """A plain text (not HTML) made safe to store and show."""
    return _clean_text(text, limit)


_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")')
_TAG = re.compile(r"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
"""A tag of sanitised HTML (nh3 always quotes attribute values)."""


def _absolute(match: re.Match[str], base: str) -> str:
    value = html.unescape(match.group(2))
    if "://" not in value[:12] and not value.startswith("mailto:"):
        try:
            value = validate_url(urljoin(base, value))
        except (FetchError, ValueError):
            return match.group(1) + "#" + match.group(3)
    return match.group(1) + html.escape(value) + match.group(3)


def sanitize_html(markup: str, base: str | None = None) -> str:
    """HTML fragment with only harmless tags and http(s)/mailto links; mentions neutralised.

    With ``base``, relative links are made absolute (feeds are parsed without feedparser's own
    relative-URI resolution, which costs a third of its time).
    """
    if not markup:
        return ""
    clean = _HTML_CLEANER.clean(bounded_html(markup))
    if base and "href=" in clean:
        clean = _HREF.sub(lambda m: _absolute(m, base), clean)
    return neutralize_mentions(clean)


def sanitised_text(clean: str, limit: int | None) -> str:
    """Visible text of HTML already sanitised by :func:`sanitize_html` (no second nh3 pass)."""
    spaced = _BLOCK_BOUNDARY.sub(" <", clean)
    return _clean_text(html.unescape(_TAG.sub("", spaced)), limit)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def link_hash(url: str) -> str:
    """What two links naming the same page share (tracking parameters removed)."""
    return sha(canonical_url(url))


def safe_link(raw: object, base: str | None, *, canonical: bool = False) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    candidate = raw.strip()
    if base:
        with contextlib.suppress(ValueError):
            candidate = urljoin(base, candidate)
    try:
        url = validate_url(candidate)
    except FetchError:
        return None
    return canonical_url(url) if canonical else url
