"""The veille: feed sources (/veille), members' shares (/partager) and weekly digests (/digest).

A source belongs to the channel where it was added, a share to the channel where it was shared:
that channel's weekly digest gathers them (see :mod:`digests.digest`). Fetching goes through the
one outbound fetcher (:mod:`digests.fetcher`), parsing through :mod:`digests.feeds`, the periodic
refresh through :mod:`digests.refresh`.

:func:`setup` registers two due-work providers derived from the database: ``feeds`` (the earliest
``next_fetch_at`` of the sources) and ``digests`` (the next weekly slot of each channel), so both
survive restarts exactly.

Handlers that fetch commit the dispatcher's transaction before awaiting the network, so that no
database lock is held while a remote server takes its time.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import (
    Actor,
    Attachment,
    Choice,
    ChoiceStyle,
    CommandEvent,
    ExtraEntry,
    Reply,
    Role,
    UserError,
)
from bot.dates import DateParseError, parse_datetime, parse_duration
from bot.family import Family, GazetteSection, Host
from bot.i18n import N_, Translator, fold
from bot.registry import Args, Option, OptionType, autocompleter, command, on_choice
from bot.storage.members import Member, PlaceRow
from bot.storage.veille import (
    ENTRY_SHARE,
    DigestSchedule,
    FeedEntry,
    FeedProposal,
    FeedSource,
)
from digests.digest import (
    Schedule,
    build_preview,
    channel_schedule,
    next_digest_due,
    next_slot,
    send_due_digests,
)
from digests.feeds import (
    MAX_TITLE,
    FeedParseError,
    FeedParser,
    clean_text,
    compile_filter,
    discover_feeds,
    link_hash,
    looks_like_html,
    page_metadata,
    sanitize_html,
)
from digests.fetcher import Fetcher, FetchError, FetchResult
from digests.opml import OpmlError, add_source_row, build_opml, import_outlines, parse_opml
from digests.refresh import (
    describe_error,
    error_code,
    fetch_policy,
    next_refresh_due,
    record_success,
    refresh_all,
    success_delay,
)
from digests.urls import canonical_url, validate_url

MAX_PROPOSALS = 5
MAX_COMMENT = 1000
MAX_THEME = 100
MAX_ATTACHMENT = 5 * 1024 * 1024


# --- setup: scheduled work ----------------------------------------------------------------------


def setup(app: Host) -> None:
    """Register the refresh of the feeds and the sending of the digests."""

    async def refresh() -> None:
        await refresh_all(app)

    async def digests() -> None:
        if await send_due_digests(app):
            await app.after_change({"outbox"})

    app.scheduler.add_due_work("feeds", lambda: next_refresh_due(app.sessions), refresh)
    app.scheduler.add_due_work(
        "digests", lambda: next_digest_due(app.sessions, app.settings), digests
    )


# --- shared helpers -----------------------------------------------------------------------------


def _require_channel(ctx: Context) -> None:
    if ctx.place.is_direct:
        raise UserError(
            ctx._(
                "Use this command in the channel whose weekly digest should carry it, not in a "
                "private conversation."
            )
        )


def _fetcher(ctx: Context) -> Fetcher:
    return Fetcher(fetch_policy(ctx.settings), clock=ctx.clock.now)


def _parser(ctx: Context) -> FeedParser:
    # One feed at a time: a worker thread is enough, no process to start.
    return FeedParser(
        processes=0,
        timeout=ctx.settings.feeds.parse_timeout_seconds,
        max_entries=ctx.settings.feeds.max_entries_per_feed,
    )


def _validated(ctx: Context, raw: str) -> str:
    try:
        return validate_url(raw)
    except FetchError as exc:
        raise UserError(_fetch_message(ctx, exc, raw)) from None


def _fetch_message(ctx: Context, exc: FetchError, url: str) -> str:
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


def _parse_message(ctx: Context, exc: FeedParseError, url: str) -> str:
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


def _check_filter(ctx: Context, text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    try:
        compile_filter(text)
    except FeedParseError:
        raise UserError(
            ctx._(
                "The filter “{filter}” is not valid. Give words separated by | (for example "
                '"vélo|mobilité") or a regular expression between slashes (for example '
                '"/appel (à|a) projets/").',
                filter=text,
            )
        ) from None
    return text.strip()


def _theme(text: str | None) -> str | None:
    return (clean_text(text, MAX_THEME) or None) if text else None


def _next_digest_text(ctx: Context, platform: str, channel_id: str) -> str:
    schedule = channel_schedule(ctx.db, platform, channel_id, ctx.settings.feeds)
    return ctx.t.datetime(next_slot(ctx.now(), schedule, ctx.t.tz))


def _source_label(source: FeedSource) -> str:
    return source.title or source.url


# --- adding a source ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    platform: str
    channel_id: str
    channel_name: str


async def _fetch(ctx: Context, url: str) -> FetchResult:
    ctx.db.commit()  # no lock held while the remote server answers
    async with _fetcher(ctx) as fetcher:
        try:
            return await fetcher.fetch(url)
        except FetchError as exc:
            raise UserError(_fetch_message(ctx, exc, url)) from None


def _existing_source(ctx: Context, target: _Target, url: str) -> FeedSource | None:
    return ctx.db.scalars(
        select(FeedSource).where(
            FeedSource.platform == target.platform,
            FeedSource.channel_id == target.channel_id,
            FeedSource.canonical == canonical_url(url),
            FeedSource.enabled.is_(True),
        )
    ).one_or_none()


def _already_there(ctx: Context, source: FeedSource, target: _Target) -> UserError:
    return UserError(
        ctx._(
            "The feed “{name}” is already watched for #{channel} ({ref}).",
            name=_source_label(source),
            channel=target.channel_name,
            ref=ctx.t.ref(source.id),
        )
    )


async def _add_feed(
    ctx: Context,
    target: _Target,
    url: str,
    *,
    theme: str | None,
    entry_filter: str | None,
    propose: bool,
) -> Reply:
    existing = _existing_source(ctx, target, url)
    if existing is not None:
        raise _already_there(ctx, existing, target)
    result = await _fetch(ctx, url)
    if not result.not_modified and looks_like_html(result.content, result.content_type):
        if not propose:
            raise UserError(_parse_message(ctx, FeedParseError("not_a_feed"), url))
        return _propose(ctx, target, result, url, theme=theme, entry_filter=entry_filter)
    async with _parser(ctx) as parser:
        try:
            parsed = await parser.parse(
                result.content,
                url=result.final_url,
                content_type=result.content_type,
                charset=result.charset,
                entry_filter=entry_filter,
            )
        except FeedParseError as exc:
            raise UserError(_parse_message(ctx, exc, url)) from None
    now = ctx.now()
    stored_url = result.permanent_url or url
    existing = _existing_source(ctx, target, stored_url)
    if existing is not None:
        raise _already_there(ctx, existing, target)
    source, _ = add_source_row(
        ctx.db,
        platform=target.platform,
        channel_id=target.channel_id,
        url=stored_url,
        now=now,
        title=parsed.title,
        theme=theme,
        entry_filter=entry_filter,
        added_by=ctx.member.id,
        site_url=parsed.site_url,
    )
    new = record_success(ctx.db, source, result, parsed, now, ctx.settings.feeds)
    ctx.changed.update({"feeds", "digests"})
    lines = [
        ctx._(
            "Source {ref} added for #{channel}: “{name}”.",
            ref=ctx.t.ref(source.id),
            channel=target.channel_name,
            name=_source_label(source),
        ),
        ctx.t.ngettext(
            "{n} entry found; the newest will be in the digest of {date}.",
            "{n} entries found; the newest will be in the digest of {date}.",
            new,
            date=_next_digest_text(ctx, target.platform, target.channel_id),
        ),
    ]
    if theme:
        lines.append(ctx._("Theme: {theme}.", theme=theme))
    if entry_filter:
        lines.append(ctx._("Only entries matching “{filter}” are kept.", filter=entry_filter))
    return Reply(text="\n".join(lines), ephemeral=True)


def _propose(
    ctx: Context,
    target: _Target,
    result: FetchResult,
    url: str,
    *,
    theme: str | None,
    entry_filter: str | None,
) -> Reply:
    found = discover_feeds(result.content, result.final_url, result.charset)
    if not found:
        raise UserError(
            ctx._(
                "The page {url} announces no feed. Look for an RSS or Atom link on the site "
                "and give that address.",
                url=url,
            )
        )
    now = ctx.now()
    choices: list[Choice] = []
    for feed in found[:MAX_PROPOSALS]:
        proposal = FeedProposal(
            platform=target.platform,
            channel_id=target.channel_id,
            member_id=ctx.member.id,
            url=feed.url,
            title=feed.title,
            theme=theme,
            filter=entry_filter,
            created_at=now,
        )
        ctx.db.add(proposal)
        ctx.db.flush()
        label = feed.title or feed.url
        choices.append(
            Choice(label=label[:80], action=f"veille:add:{proposal.id}", style=ChoiceStyle.PRIMARY)
        )
    text = ctx.t.ngettext(
        "The page {url} is not a feed, but it announces {n} feed. Pick it to add it:",
        "The page {url} is not a feed, but it announces {n} feeds. Pick the one to add:",
        len(choices),
        url=url,
    )
    return Reply(text=text, choices=tuple(choices), ephemeral=True)


@command(
    "ajouter",
    "add",
    N_("Watches a feed (RSS, Atom, JSON Feed) for this channel's weekly digest."),
    group="veille",
    group_alias="watch",
    group_help=N_(
        "Feeds watched for the weekly digest: add, list, remove, set how often, import, export."
    ),
    options=[
        Option(
            "url",
            "url",
            N_("The address of the feed, or of a page that announces one."),
            positional=True,
            required=True,
        ),
        Option("theme", "theme", N_("The theme its entries go under, for example mobilité.")),
        Option(
            "filtre",
            "filter",
            N_('Keep only entries matching words ("vélo|mobilité") or a /regular expression/.'),
        ),
    ],
    permission=Role.COORDINATOR,
    examples=(
        "/veille ajouter https://www.ademe.fr/feed/ --theme énergie",
        '/veille ajouter https://www.ecologie.gouv.fr --theme mobilité --filtre "vélo|mobilité"',
    ),
)
async def add_source(ctx: Context, args: Args) -> Reply:
    _require_channel(ctx)
    entry_filter = _check_filter(ctx, args["filtre"])
    url = _validated(ctx, args["url"])
    target = _Target(ctx.place.platform, ctx.place.channel_id, ctx.place.name)
    return await _add_feed(
        ctx,
        target,
        url,
        theme=_theme(args["theme"]),
        entry_filter=entry_filter,
        propose=True,
    )


@on_choice("veille", r"add:(?P<proposal>\d{1,9})")
async def on_veille_choice(ctx: Context, match: re.Match[str]) -> Reply:
    if not ctx.actor.is_coordinator:
        raise UserError(ctx._("Only the network's coordinators can add a feed."))
    proposal = ctx.db.get(FeedProposal, int(match["proposal"]))
    if proposal is None or proposal.platform != ctx.actor.platform:
        raise UserError(ctx._("This proposal has expired. Run /veille ajouter again."))
    name = ctx.db.scalar(
        select(PlaceRow.name).where(
            PlaceRow.platform == proposal.platform, PlaceRow.channel_id == proposal.channel_id
        )
    )
    target = _Target(proposal.platform, proposal.channel_id, name or proposal.channel_id)
    return await _add_feed(
        ctx,
        target,
        proposal.url,
        theme=proposal.theme,
        entry_filter=proposal.filter,
        propose=False,
    )


# --- listing, removing, import, export ----------------------------------------------------------


def _channel_sources(ctx: Context) -> list[FeedSource]:
    return list(
        ctx.db.scalars(
            select(FeedSource)
            .where(
                FeedSource.platform == ctx.place.platform,
                FeedSource.channel_id == ctx.place.channel_id,
            )
            .order_by(FeedSource.id)
        )
    )


def _status(ctx: Context, source: FeedSource) -> str:
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


@command(
    "liste",
    "list",
    N_("Lists the feeds watched for this channel."),
    group="veille",
    group_alias="watch",
)
def list_sources(ctx: Context, args: Args) -> Reply:
    sources = _channel_sources(ctx)
    if not sources:
        return Reply(
            text=ctx._(
                "No feed is watched for #{channel} yet. A coordinator can add one with "
                "/veille ajouter followed by its address.",
                channel=ctx.place.name,
            ),
            ephemeral=True,
        )
    lines = [
        ctx.t.ngettext(
            "**{n} feed watched for #{channel}**",
            "**{n} feeds watched for #{channel}**",
            len(sources),
            channel=ctx.place.name,
        )
    ]
    for source in sources:
        details = [_status(ctx, source)]
        if source.theme:
            details.insert(0, ctx._("theme: {theme}", theme=source.theme))
        if source.filter:
            details.append(ctx._("filter: {filter}", filter=source.filter))
        if source.interval_minutes:
            details.append(
                ctx._(
                    "interval: {interval}", interval=interval_text(ctx.t, source.interval_minutes)
                )
            )
        lines.append(
            f"- {ctx.t.ref(source.id)} · [{_source_label(source)}]({source.url}) — "
            + " · ".join(details)
        )
    return Reply(text="\n".join(lines), ephemeral=True)


_SOURCE_NUMBER = Option(
    "numero",
    "number",
    N_("The number of the source, as /veille liste shows it."),
    type=OptionType.INTEGER,
    positional=True,
    required=True,
    autocomplete="source",
)


@command(
    "retirer",
    "remove",
    N_("Stops watching a feed (its entries not yet sent leave the next digest)."),
    group="veille",
    group_alias="watch",
    options=[_SOURCE_NUMBER],
    permission=Role.COORDINATOR,
    examples=("/veille retirer 3",),
)
def remove_source(ctx: Context, args: Args) -> Reply:
    source = ctx.db.get(FeedSource, args["numero"])
    if source is None or source.platform != ctx.place.platform:
        raise UserError(
            ctx._(
                "There is no source {ref}. /veille liste shows the sources and their numbers.",
                ref=ctx.t.ref(args["numero"]),
            )
        )
    label = _source_label(source)
    ctx.db.delete(source)
    ctx.changed.update({"feeds", "digests"})
    return Reply(
        text=ctx._("Source {ref} (“{name}”) removed.", ref=ctx.t.ref(args["numero"]), name=label),
        ephemeral=True,
    )


MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(days=7)
_DEFAULT_WORDS = frozenset({"defaut", "default", "par defaut", "reset"})


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


def _read_interval(ctx: Context, text: str) -> int | None:
    """Minutes between two fetches, or None for the default; raises UserError otherwise."""
    if fold(text).strip() in _DEFAULT_WORDS:
        return None
    try:
        interval = parse_duration(text)
    except DateParseError:
        raise UserError(
            ctx._(
                "I cannot read “{text}” as an interval. Give a duration such as 30min, 6h or "
                "1d, or “default” to go back to the network's interval ({default}).",
                text=text,
                default=interval_text(ctx.t, ctx.settings.feeds.refresh_minutes),
            )
        ) from None
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        raise UserError(
            ctx._(
                "“{text}” is out of bounds: give an interval between {low} and {high}.",
                text=text,
                low=interval_text(ctx.t, int(MIN_INTERVAL.total_seconds()) // 60),
                high=interval_text(ctx.t, int(MAX_INTERVAL.total_seconds()) // 60),
            )
        )
    return int(interval.total_seconds()) // 60


@command(
    "frequence",
    "interval",
    N_("Sets how often a feed is fetched (15 min to 7 days), or back to the network's interval."),
    group="veille",
    group_alias="watch",
    options=[
        _SOURCE_NUMBER,
        Option(
            "intervalle",
            "interval",
            N_('The time between two fetches: 30min, 6h, 1j (1d)... or "defaut".'),
            type=OptionType.TEXT,
            positional=True,
            required=True,
        ),
    ],
    permission=Role.COORDINATOR,
    examples=("/veille frequence 3 6h", "/veille frequence 3 1j", "/veille frequence 3 defaut"),
)
def set_interval(ctx: Context, args: Args) -> Reply:
    source = ctx.db.get(FeedSource, args["numero"])
    if source is None or source.platform != ctx.place.platform:
        raise UserError(
            ctx._(
                "There is no source {ref}. /veille liste shows the sources and their numbers.",
                ref=ctx.t.ref(args["numero"]),
            )
        )
    minutes = _read_interval(ctx, args["intervalle"])
    source.interval_minutes = minutes
    now = ctx.now()
    if source.enabled and not source.failures and source.last_fetched_at is not None:
        # A failing source keeps its backoff; one never fetched is due already.
        delay = success_delay(minutes, None, ctx.settings.feeds)
        source.next_fetch_at = max(now, source.last_fetched_at + delay)
    ctx.changed.add("feeds")
    effective = interval_text(ctx.t, minutes or ctx.settings.feeds.refresh_minutes)
    if minutes is None:
        text = ctx._(
            "Source {ref} (“{name}”) follows the network's interval again: every {interval}.",
            ref=ctx.t.ref(source.id),
            name=_source_label(source),
            interval=effective,
        )
    else:
        text = ctx._(
            "Source {ref} (“{name}”) will now be fetched every {interval}.",
            ref=ctx.t.ref(source.id),
            name=_source_label(source),
            interval=effective,
        )
    if source.enabled:
        text += " " + ctx._(
            "Next fetch: {date}.", date=ctx.t.datetime(max(now, source.next_fetch_at), "short")
        )
    return Reply(text=text, ephemeral=True)


@command(
    "importer",
    "import",
    N_("Imports feeds from an OPML file attached to the command, or found at an address."),
    group="veille",
    group_alias="watch",
    options=[
        Option(
            "url",
            "url",
            N_("The address of an OPML file (when none is attached)."),
            positional=True,
        )
    ],
    permission=Role.COORDINATOR,
    examples=("/veille importer https://example.org/veille.opml",),
)
async def import_sources(ctx: Context, args: Args) -> Reply:
    _require_channel(ctx)
    event = ctx.event
    attachments = event.attachments if isinstance(event, CommandEvent) else ()
    data: bytes | None = None
    for attachment in attachments:
        if len(attachment.data) > MAX_ATTACHMENT:
            raise UserError(ctx._("The attached file is too large (at most 5 MiB)."))
        data = attachment.data
        break
    if data is None:
        if not args["url"]:
            raise UserError(
                ctx._(
                    "Attach an OPML file to the command, or give the address of one: "
                    "/veille importer https://example.org/veille.opml"
                )
            )
        url = _validated(ctx, args["url"])
        data = (await _fetch(ctx, url)).content
    try:
        outlines, invalid = parse_opml(
            data, allow_private_networks=ctx.settings.feeds.allow_private_networks
        )
    except OpmlError as exc:
        raise UserError(
            ctx._("This OPML file is too large (at most 5 MiB).")
            if exc.code == "too_large"
            else ctx._(
                "This is not an OPML file I can read (an OPML export of a feed reader is "
                "expected, without a DTD)."
            )
        ) from None
    report = import_outlines(
        ctx.db,
        outlines,
        platform=ctx.place.platform,
        channel_id=ctx.place.channel_id,
        now=ctx.now(),
        added_by=ctx.member.id,
    )
    ctx.changed.update({"feeds", "digests"})
    lines = [
        ctx.t.ngettext(
            "{n} feed imported for #{channel}; it will be fetched within minutes.",
            "{n} feeds imported for #{channel}; they will be fetched within minutes.",
            len(report.added),
            channel=ctx.place.name,
        )
    ]
    if report.duplicates:
        lines.append(
            ctx.t.ngettext(
                "{n} was already watched.", "{n} were already watched.", report.duplicates
            )
        )
    if invalid:
        lines.append(
            ctx.t.ngettext(
                "{n} address was not a web address and was skipped: {list}.",
                "{n} addresses were not web addresses and were skipped: {list}.",
                len(invalid),
                list=", ".join(invalid[:5]),
            )
        )
    return Reply(text="\n".join(lines), ephemeral=True)


@command(
    "exporter",
    "export",
    N_("Sends the list of this channel's feeds as an OPML file."),
    group="veille",
    group_alias="watch",
    permission=Role.COORDINATOR,
)
def export_sources(ctx: Context, args: Args) -> Reply:
    sources = _channel_sources(ctx)
    if not sources:
        raise UserError(ctx._("No feed is watched for #{channel} yet.", channel=ctx.place.name))
    data = build_opml(
        sources,
        title=f"{ctx.settings.network.name} — #{ctx.place.name}",
        now=ctx.now(),
    )
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in ctx.place.name) or "veille"
    return Reply(
        text=ctx.t.ngettext(
            "The {n} feed of #{channel}, as OPML.",
            "The {n} feeds of #{channel}, as OPML.",
            len(sources),
            channel=ctx.place.name,
        ),
        attachments=(Attachment(f"veille-{safe}.opml", "text/x-opml", data),),
        ephemeral=True,
    )


# --- sharing a link -----------------------------------------------------------------------------


@command(
    "partager",
    "share",
    N_("Shares a link for this channel's next weekly digest, with a comment if you like."),
    options=[
        Option(
            "url",
            "url",
            N_("The address of the page to share."),
            positional=True,
            required=True,
        ),
        Option(
            "commentaire",
            "comment",
            N_("Why it is worth reading (optional)."),
            type=OptionType.TEXT,
            positional=True,
        ),
        Option("theme", "theme", N_("The theme it goes under, for example mobilité.")),
    ],
    examples=(
        "/partager https://www.cerema.fr/fr/actualites/etude-velo "
        "Une étude utile pour nos plans vélo",
    ),
)
async def share(ctx: Context, args: Args) -> Reply:
    _require_channel(ctx)
    url = _validated(ctx, args["url"])
    key = link_hash(url)
    platform, channel_id = ctx.place.platform, ctx.place.channel_id
    earlier = ctx.db.execute(
        select(FeedEntry.id, FeedEntry.shared_by, FeedEntry.title).where(
            FeedEntry.platform == platform,
            FeedEntry.channel_id == channel_id,
            FeedEntry.kind == ENTRY_SHARE,
            FeedEntry.link_hash == key,
            FeedEntry.digest_id.is_(None),
        )
    ).first()
    if earlier is not None:
        who = ctx.db.get(Member, earlier.shared_by) if earlier.shared_by else None
        if who is not None and who.id == ctx.member.id:
            text = ctx._(
                "You already shared this link for the next digest (“{title}”). Thank you!",
                title=earlier.title,
            )
        else:
            text = ctx._(
                "Good find! {name} already shared this link for the next digest (“{title}”).",
                name=who.display_name if who is not None else ctx._("a member"),
                title=earlier.title,
            )
        return Reply(text=text, ephemeral=True)
    title: str | None = None
    description: str | None = None
    note: str | None = None
    ctx.db.commit()  # no lock held while the remote server answers
    async with _fetcher(ctx) as fetcher:
        try:
            result = await fetcher.fetch(url, accept="text/html, application/xhtml+xml, */*;q=0.5")
        except FetchError as exc:
            if exc.kind in ("invalid_url", "scheme", "blocked_address"):
                raise UserError(_fetch_message(ctx, exc, url)) from None
            note = ctx._(
                "I could not read the page ({reason}); it is kept with its address as title.",
                reason=describe_error(ctx.t, error_code(exc)),
            )
        else:
            if looks_like_html(result.content, result.content_type):
                meta = page_metadata(result.content, result.charset)
                title, description = meta.title, meta.description
    final_title = title or clean_text(url, MAX_TITLE)
    summary = description or ""
    comment = clean_text(args["commentaire"], MAX_COMMENT) if args["commentaire"] else None
    now = ctx.now()
    host = url.split("/")[2] if url.count("/") >= 2 else None
    entry = FeedEntry(
        kind=ENTRY_SHARE,
        platform=platform,
        channel_id=channel_id,
        source_id=None,
        entry_key=hashlib.sha256(f"share:{key}:{now.isoformat()}".encode()).hexdigest(),
        link=canonical_url(url),
        link_hash=key,
        content_hash=hashlib.sha256(f"{final_title}\n{summary}".encode()).hexdigest(),
        title=final_title,
        summary=summary,
        summary_html=sanitize_html(f"<p>{escape(summary)}</p>") if summary else "",
        author=host,
        theme=_theme(args["theme"]),
        published_at=None,
        created_at=now,
        shared_by=ctx.member.id,
        comment=comment or None,
        pinned=False,
        dropped=False,
    )
    ctx.db.add(entry)
    ctx.db.flush()
    ctx.changed.add("digests")
    lines = [
        ctx._(
            "Thank you! “{title}” will be in the digest of #{channel} on {date}.",
            title=final_title,
            channel=ctx.place.name,
            date=_next_digest_text(ctx, platform, channel_id),
        )
    ]
    if note:
        lines.append(note)
    return Reply(text="\n".join(lines), ephemeral=True)


# --- digests ------------------------------------------------------------------------------------

_WEEKDAYS = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}


def parse_schedule(text: str, *, now: datetime, t: Translator) -> Schedule:
    """``lundi 9h`` / ``friday 17:30`` -> a weekly schedule; raises UserError otherwise."""
    words = fold(text).replace(",", " ").split()
    days = {_WEEKDAYS[w] for w in words if w in _WEEKDAYS}
    problem = t.gettext(
        "I cannot read “{text}” as a day of the week and a time. Examples that work: "
        "“lundi 9h”, “vendredi 16h30”, “monday 9:00”.",
        text=text,
    )
    if len(days) != 1:
        raise UserError(problem)
    try:
        moment = parse_datetime(text, now=now, tz=t.tz)
    except DateParseError:
        raise UserError(problem) from None
    local = moment.astimezone(t.tz)
    weekday = days.pop()
    if local.weekday() != weekday:
        raise UserError(problem)
    return Schedule(weekday, local.hour, local.minute)


@command(
    "programmer",
    "schedule",
    N_("Sets the day and time of a channel's weekly digest."),
    group="digest",
    group_alias="digest",
    group_help=N_("The weekly digest of the veille: schedule, preview, pin or leave out items."),
    options=[
        Option(
            "canal",
            "channel",
            N_("The channel that receives the digest, for example #veille."),
            type=OptionType.CHANNEL,
            positional=True,
            required=True,
        ),
        Option(
            "quand",
            "when",
            N_('The day and time, for example "lundi 9h".'),
            type=OptionType.TEXT,
            positional=True,
            required=True,
        ),
    ],
    permission=Role.COORDINATOR,
    examples=('/digest programmer #veille "lundi 9h"',),
)
def schedule_digest(ctx: Context, args: Args) -> Reply:
    place = ctx.find_channel(args["canal"])
    schedule = parse_schedule(args["quand"], now=ctx.now(), t=ctx.t)
    row = ctx.db.scalars(
        select(DigestSchedule).where(
            DigestSchedule.platform == place.platform,
            DigestSchedule.channel_id == place.channel_id,
        )
    ).one_or_none()
    now = ctx.now()
    if row is None:
        row = DigestSchedule(
            platform=place.platform,
            channel_id=place.channel_id,
            channel_name=place.name,
            weekday=schedule.weekday,
            hour=schedule.hour,
            minute=schedule.minute,
            updated_by=ctx.member.id,
            updated_at=now,
        )
        ctx.db.add(row)
    else:
        row.weekday, row.hour, row.minute = schedule.weekday, schedule.hour, schedule.minute
        row.channel_name = place.name
        row.updated_by = ctx.member.id
        row.updated_at = now
    ctx.changed.add("digests")
    first = next_slot(now, schedule, ctx.t.tz)
    return Reply(
        text=ctx._(
            "The digest of #{channel} will be posted every week on {day} at {time}; the next "
            "one on {date}.",
            channel=place.name,
            day=ctx.t.date(first, "date").split(" ")[0],
            time=ctx.t.time(first),
            date=ctx.t.datetime(first),
        ),
        ephemeral=True,
    )


@command(
    "apercu",
    "preview",
    N_("Shows the next digest of a channel, with item numbers to pin or leave out."),
    group="digest",
    group_alias="digest",
    options=[
        Option(
            "canal",
            "channel",
            N_("The channel (default: this one)."),
            type=OptionType.CHANNEL,
            positional=True,
        )
    ],
    permission=Role.COORDINATOR,
    examples=("/digest apercu", "/digest apercu #veille"),
)
def preview(ctx: Context, args: Args) -> Reply:
    if args["canal"]:
        place = ctx.find_channel(args["canal"])
        platform, channel_id, name = place.platform, place.channel_id, place.name
    else:
        _require_channel(ctx)
        platform, channel_id, name = ctx.place.platform, ctx.place.channel_id, ctx.place.name
    assert ctx.templates is not None
    data, text = build_preview(
        ctx.db,
        platform=platform,
        channel_id=channel_id,
        env=ctx.templates,
        settings=ctx.settings,
        t=ctx.t,
        at=ctx.now(),
    )
    when = _next_digest_text(ctx, platform, channel_id)
    if not data.item_count:
        return Reply(
            text=ctx._(
                "Nothing yet for the digest of #{channel} on {date}.", channel=name, date=when
            ),
            ephemeral=True,
        )
    hint = ctx._(
        "Preview of the digest of #{channel} on {date}. Pin an item with /digest epingler N, "
        "leave one out with /digest retirer N.",
        channel=name,
        date=when,
    )
    return Reply(text=f"{hint}\n\n{text}", ephemeral=True)


def _pending_entry(ctx: Context, number: int) -> FeedEntry:
    entry = ctx.db.get(FeedEntry, number)
    if entry is None or entry.platform != ctx.actor.platform:
        raise UserError(
            ctx._(
                "There is no item {ref}. /digest apercu shows the next digest with its numbers.",
                ref=ctx.t.ref(number),
            )
        )
    if entry.digest_id is not None:
        raise UserError(
            ctx._("Item {ref} was already in a digest that was sent.", ref=ctx.t.ref(number))
        )
    return entry


_NUMBER = Option(
    "numero",
    "number",
    N_("The number of the item, as /digest apercu shows it."),
    type=OptionType.INTEGER,
    positional=True,
    required=True,
    autocomplete="digest_item",
)


@command(
    "epingler",
    "pin",
    N_("Keeps an item at the top of the next digest."),
    group="digest",
    group_alias="digest",
    options=[_NUMBER],
    permission=Role.COORDINATOR,
    examples=("/digest epingler 12",),
)
def pin(ctx: Context, args: Args) -> Reply:
    entry = _pending_entry(ctx, args["numero"])
    entry.pinned, entry.dropped = True, False
    return Reply(
        text=ctx._(
            "Item {ref} (“{title}”) is pinned at the top of the next digest.",
            ref=ctx.t.ref(entry.id),
            title=entry.title,
        ),
        ephemeral=True,
    )


@command(
    "retirer",
    "drop",
    N_("Leaves an item out of the next digest."),
    group="digest",
    group_alias="digest",
    options=[_NUMBER],
    permission=Role.COORDINATOR,
    examples=("/digest retirer 12",),
)
def drop(ctx: Context, args: Args) -> Reply:
    entry = _pending_entry(ctx, args["numero"])
    entry.dropped, entry.pinned = True, False
    return Reply(
        text=ctx._(
            "Item {ref} (“{title}”) is left out of the next digest.",
            ref=ctx.t.ref(entry.id),
            title=entry.title,
        ),
        ephemeral=True,
    )


# --- autocomplete -------------------------------------------------------------------------------


def _matching(pairs: Iterable[tuple[str, str]], typed: str) -> list[tuple[str, str]]:
    wanted = fold(typed.strip().lstrip("#"))
    return [p for p in pairs if not wanted or wanted in fold(p[0])][:25]


@autocompleter("source")
def suggest_sources(db: Session, typed: str, actor: Actor, t: Translator) -> list[tuple[str, str]]:
    """The sources of the actor's platform whose number or title contains ``typed``."""
    rows = db.execute(
        select(FeedSource.id, FeedSource.title, FeedSource.url)
        .where(FeedSource.platform == actor.platform)
        .order_by(FeedSource.id.desc())
        .limit(500)
    )
    return _matching(((f"{t.ref(i)} · {title or url}", str(i)) for i, title, url in rows), typed)


@autocompleter("digest_item")
def suggest_items(db: Session, typed: str, actor: Actor, t: Translator) -> list[tuple[str, str]]:
    """The items waiting for a digest whose number or title contains ``typed``."""
    rows = db.execute(
        select(FeedEntry.id, FeedEntry.title)
        .where(FeedEntry.platform == actor.platform, FeedEntry.digest_id.is_(None))
        .order_by(FeedEntry.id.desc())
        .limit(500)
    )
    return _matching(((f"{t.ref(i)} · {title}", str(i)) for i, title in rows), typed)


# --- what the family gives the gazette ---------------------------------------------------------


GAZETTE_VEILLE_ITEMS = 6


def gazette_best_veille(
    db: Session, t: Translator, since: datetime, until: datetime, session_id: int | None
) -> list[ExtraEntry]:
    """Pinned items first, then links shared by members, then the newest feed items.

    Who shared a link is not printed (a name needs consent), nor their comment (their words).
    """
    rows = db.scalars(
        select(FeedEntry)
        .where(
            FeedEntry.dropped.is_(False),
            FeedEntry.created_at >= since,
            FeedEntry.created_at <= until,
        )
        .order_by(
            case((FeedEntry.pinned.is_(True), 0), else_=1),
            case((FeedEntry.kind == ENTRY_SHARE, 0), else_=1),
            FeedEntry.created_at.desc(),
            FeedEntry.id,
        )
        .limit(GAZETTE_VEILLE_ITEMS)
    ).all()
    return [
        ExtraEntry(
            kind="veille",
            ref_id=row.id,
            title=row.title,
            at=row.published_at or row.created_at,
            details=(_gazette_excerpt(row.summary, 220),) if row.summary.strip() else (),
            link=row.link,
        )
        for row in rows
    ]


def _gazette_excerpt(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


FAMILY = Family(
    name="veille",
    handlers=(sys.modules[__name__],),
    setup=setup,
    outbox_topics=("digest", "feed-disabled"),
    gazette=(GazetteSection("veille", gazette_best_veille),),
)
