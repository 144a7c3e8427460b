"""The veille's texts: fetch and parse problems, a source's state, a disabled source's note,
intervals, the next digest's date."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import Translator
from bot.storage.veille import FeedSource
from commands.veille.error_codes import describe_error, error_code
from commands.veille.schedule import next_slot
from commands.veille.store import channel_schedule
from digests.feeds import FeedParseError
from digests.fetcher import FetchError

__all__ = [
    "disabled_source_text",
    "fetch_message",
    "interval_text",
    "next_digest_text",
    "parse_message",
    "source_label",
    "source_status",
]


def disabled_source_text(t: Translator, source: FeedSource) -> str:
    """What the coordinator who added a source is told when it is disabled."""
    name = source.title or source.url
    if source.disabled_reason == "gone":
        return t.gettext(
            "The feed “{name}” ({url}) no longer exists: its server answered that it was "
            "removed for good. I stopped fetching it; remove it with /watch remove {id}.",
            name=name,
            url=source.url,
            id=source.id,
        )
    return t.ngettext(
        "The feed “{name}” ({url}) failed {n} time in a row ({error}). I stopped fetching "
        "it. Check the address, then add it again with /watch add to start over.",
        "The feed “{name}” ({url}) failed {n} times in a row ({error}). I stopped fetching "
        "it. Check the address, then add it again with /watch add to start over.",
        source.failures,
        name=name,
        url=source.url,
        error=describe_error(t, source.last_error),
    )


def fetch_message(ctx: Context, exc: FetchError, url: str) -> str:
    if exc.kind == "invalid_url":
        return ctx._(
            "“{url}” is not a web address I can use. Give a full address starting with "
            "https://, for example https://www.ademe.fr/feed/.",
            url=url,
        )
    if exc.kind == "scheme":
        return ctx._("Only http:// and https:// addresses can be followed, not “{url}”.", url=url)
    if exc.kind == "blocked_address":
        return ctx._(
            "{url} points to a private or local network address: I do not fetch those. "
            "Give a public address.",
            url=url,
        )
    return ctx._(
        "I could not fetch {url}: {reason}. Check the address, or try again later.",
        url=url,
        reason=describe_error(ctx.t, error_code(exc)),
    )


def parse_message(ctx: Context, exc: FeedParseError, url: str) -> str:
    if exc.code == "not_a_feed":
        return ctx._(
            "{url} is neither a feed (RSS, Atom, JSON Feed) nor a page that announces one. "
            "Look for the RSS link on the site and give that address.",
            url=url,
        )
    return ctx._(
        "I could not read the feed at {url}: {reason}.",
        url=url,
        reason=describe_error(ctx.t, f"feed:{exc.code}"),
    )


def source_label(source: FeedSource) -> str:
    return source.title or source.url


def source_status(ctx: Context, source: FeedSource) -> str:
    if not source.enabled:
        if source.disabled_reason == "gone":
            return ctx._("disabled: the feed no longer exists")
        return ctx._("disabled after repeated failures ({error})", error=_error(ctx, source))
    if source.failures:
        return ctx.t.ngettext(
            "failing ({error}), {n} time in a row",
            "failing ({error}), {n} times in a row",
            source.failures,
            error=_error(ctx, source),
        )
    if source.last_success_at is None:
        return ctx._("waiting for its first fetch")
    return ctx._("fetched {date}", date=ctx.t.datetime(source.last_success_at, "short"))


def _error(ctx: Context, source: FeedSource) -> str:
    return describe_error(ctx.t, source.last_error)


def interval_text(t: Translator, minutes: int) -> str:
    """``30 min``, ``6 h``, ``1 h 30``, ``2 jours``: an interval in whole minutes, for people."""
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return t.ngettext("{n} day", "{n} days", days)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return t.gettext("{n} min", n=rest)
    if not rest:
        return t.gettext("{n} h", n=hours)
    return t.gettext("{hours} h {minutes} min", hours=hours, minutes=f"{rest:02d}")


def next_digest_text(ctx: Context, platform: str, channel_id: str) -> str:
    schedule = channel_schedule(ctx.db, platform, channel_id, ctx.settings.feeds)
    return ctx.t.datetime(next_slot(ctx.now(), schedule, ctx.t.tz))
