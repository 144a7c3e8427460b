"""Fetching from a handler: the address checked first, the dispatcher's transaction committed
before the network is awaited (no database lock is held while a remote server takes its time),
and a fetch problem worded for the member."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.context import Context
from bot.core import UserError
from commands.veille.interactive import interactive_parser
from commands.veille.messages import fetch_message
from commands.veille.refresh import fetch_policy
from digests.feeds import FeedParser
from digests.urls import FetchError, validate_url

if TYPE_CHECKING:  # digests.fetcher (httpx) is imported at the first fetch
    from digests.fetcher import Fetcher, FetchResult

__all__ = ["feed_fetcher", "fetch", "one_feed_parser", "validated"]


def feed_fetcher(ctx: Context) -> Fetcher:
    from digests.fetcher import Fetcher

    return Fetcher(fetch_policy(ctx.settings), clock=ctx.clock.now)


def one_feed_parser(ctx: Context) -> FeedParser:
    # Worker processes killed past the time limit, as for the refresh (see .interactive).
    return interactive_parser(ctx.services, ctx.settings)


def validated(ctx: Context, raw: str) -> str:
    try:
        return validate_url(raw)
    except FetchError as exc:
        raise UserError(fetch_message(ctx, exc, raw)) from None


async def fetch(ctx: Context, url: str) -> FetchResult:
    ctx.db.commit()  # no lock held while the remote server answers
    async with feed_fetcher(ctx) as fetcher:
        try:
            return await fetcher.fetch(url)
        except FetchError as exc:
            raise UserError(fetch_message(ctx, exc, url)) from None
