"""The error codes stored on a source (``http_status:500``, ``rate_limited:429``,
``feed:not_a_feed``...): made from a fetch or parse error, and worded for people when shown."""

from __future__ import annotations

from bot.i18n import N_, Translator
from digests.feeds import FeedParseError
from digests.urls import FetchError

__all__ = ["describe_error", "error_code"]

_ERRORS = {
    "invalid_url": N_("the address is not a valid web address"),
    "scheme": N_("only http and https addresses can be fetched"),
    "blocked_address": N_("the address points to a private or local network"),
    "dns": N_("the site's name could not be found"),
    "timeout": N_("the site took too long to answer"),
    "too_large": N_("the feed is too large (over 15 MiB)"),
    "too_many_redirects": N_("too many redirections"),
    "http_status": N_("the server answered with an error"),
    "gone": N_("the feed was removed for good (410 Gone)"),
    "rate_limited": N_("the server asked to slow down (too many requests)"),
    "connection": N_("the connection to the site failed"),
    "tls": N_("the site's secure connection (TLS certificate) could not be verified"),
    "decoding": N_("the answer was corrupt (bad compression)"),
    "feed:not_a_feed": N_("the answer is not an RSS, Atom or JSON feed"),
    "feed:parse": N_("the feed could not be read"),
    "feed:timeout": N_("the feed took too long to read"),
    "feed:bad_filter": N_("the filter of this source is not valid"),
    "feed:unsafe": N_(
        "the feed declares a DTD or entities, or nests its elements too deeply: such documents "
        "are not read, for safety"
    ),
}


def error_code(exc: FetchError | FeedParseError) -> str:
    if isinstance(exc, FeedParseError):
        return f"feed:{exc.code}"
    if exc.http_status is not None and exc.kind in ("http_status", "rate_limited"):
        return f"{exc.kind}:{exc.http_status}"
    return exc.kind


def describe_error(t: Translator, code: str | None) -> str:
    """A person's wording of a stored error code (``http_status:500`` ...)."""
    if not code:
        return ""
    kind, status = (code, "") if code.startswith("feed:") else code.partition(":")[::2]
    text = t.gettext(_ERRORS.get(kind, N_("unexpected error")))
    return f"{text} (HTTP {status})" if status else text
