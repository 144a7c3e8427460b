"""/veille: the feed sources of a channel (add, list, remove, set how often, import, export).

A source belongs to the channel where it was added. ``/veille ajouter`` fetches once: a feed is
parsed and its entries stored at once; an HTML page is searched for the feeds it announces,
offered as choices (``veille:add:<proposal id>``); a page without one is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import (
    Actor,
    Attachment,
    Choice,
    ChoiceStyle,
    CommandEvent,
    Reply,
    Role,
    UserError,
)
from bot.i18n import N_, Translator
from bot.registry import Args, Option, OptionType, autocompleter, command, on_choice
from bot.storage.veille import FeedProposal, FeedSource
from commands.veille.fetching import fetch, one_feed_parser, validated
from commands.veille.messages import (
    interval_text,
    next_digest_text,
    parse_message,
    source_label,
    source_status,
)
from commands.veille.opml import import_outlines
from commands.veille.parsing import (
    check_filter,
    matching,
    read_interval,
    read_theme,
    require_channel,
)
from commands.veille.refresh import record_success, success_delay
from commands.veille.store import (
    add_proposal,
    add_source_row,
    channel_name,
    channel_sources,
    existing_source,
    platform_source,
    recent_sources,
)
from digests.feeds import FeedParseError, discover_feeds, looks_like_html
from digests.opml import OpmlError, build_opml, parse_opml

if TYPE_CHECKING:
    from digests.fetcher import FetchResult

MAX_PROPOSALS = 5
MAX_ATTACHMENT = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Target:
    platform: str
    channel_id: str
    channel_name: str


def _already_there(ctx: Context, source: FeedSource, target: _Target) -> UserError:
    return UserError(
        ctx._(
            "The feed “{name}” is already watched for #{channel} ({ref}).",
            name=source_label(source),
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
    existing = existing_source(ctx.db, target.platform, target.channel_id, url)
    if existing is not None:
        raise _already_there(ctx, existing, target)
    result = await fetch(ctx, url)
    if not result.not_modified and looks_like_html(result.content, result.content_type):
        if not propose:
            raise UserError(parse_message(ctx, FeedParseError("not_a_feed"), url))
        return _propose(ctx, target, result, url, theme=theme, entry_filter=entry_filter)
    try:
        parsed = await one_feed_parser(ctx).parse(
            result.content,
            url=result.final_url,
            content_type=result.content_type,
            charset=result.charset,
            entry_filter=entry_filter,
        )
    except FeedParseError as exc:
        raise UserError(parse_message(ctx, exc, url)) from None
    now = ctx.now()
    stored_url = result.permanent_url or url
    existing = existing_source(ctx.db, target.platform, target.channel_id, stored_url)
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
            name=source_label(source),
        ),
        ctx.t.ngettext(
            "{n} entry found; the newest will be in the digest of {date}.",
            "{n} entries found; the newest will be in the digest of {date}.",
            new,
            date=next_digest_text(ctx, target.platform, target.channel_id),
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
        proposal = add_proposal(
            ctx.db,
            platform=target.platform,
            channel_id=target.channel_id,
            member_id=ctx.member.id,
            url=feed.url,
            title=feed.title,
            theme=theme,
            entry_filter=entry_filter,
            now=now,
        )
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
        '/watch add https://www.ecologie.gouv.fr --theme mobilité --filtre "vélo|mobilité"',
    ),
)
async def add_source(ctx: Context, args: Args) -> Reply:
    require_channel(ctx)
    entry_filter = check_filter(ctx, args["filtre"])
    url = validated(ctx, args["url"])
    target = _Target(ctx.place.platform, ctx.place.channel_id, ctx.place.name)
    return await _add_feed(
        ctx,
        target,
        url,
        theme=read_theme(args["theme"]),
        entry_filter=entry_filter,
        propose=True,
    )


@on_choice("veille", r"add:(?P<proposal>\d{1,9})")
async def on_veille_choice(ctx: Context, match: re.Match[str]) -> Reply:
    if not ctx.actor.is_coordinator:
        raise UserError(ctx._("Only the network's coordinators can add a feed."))
    proposal = ctx.db.get(FeedProposal, int(match["proposal"]))
    if proposal is None or proposal.platform != ctx.actor.platform:
        raise UserError(ctx._("This proposal has expired. Run /watch add again."))
    name = channel_name(ctx.db, proposal.platform, proposal.channel_id)
    target = _Target(proposal.platform, proposal.channel_id, name)
    return await _add_feed(
        ctx,
        target,
        proposal.url,
        theme=proposal.theme,
        entry_filter=proposal.filter,
        propose=False,
    )


@command(
    "liste",
    "list",
    N_("Lists the feeds watched for this channel."),
    group="veille",
    group_alias="watch",
)
def list_sources(ctx: Context, args: Args) -> Reply:
    sources = channel_sources(ctx.db, ctx.place.platform, ctx.place.channel_id)
    if not sources:
        return Reply(
            text=ctx._(
                "No feed is watched for #{channel} yet. A coordinator can add one with "
                "/watch add followed by its address.",
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
        details = [source_status(ctx, source)]
        if source.theme:
            details.insert(0, ctx._("theme: {theme}", theme=source.theme))
        if source.filter:
            details.append(ctx._("filter: {filter}", filter=source.filter))
        if source.theme_map:
            mapped = len([line for line in source.theme_map.splitlines() if line.strip()])
            details.append(
                ctx.t.ngettext(
                    "{n} category mapped to a theme",
                    "{n} categories mapped to themes",
                    mapped,
                )
            )
        if source.interval_minutes:
            details.append(
                ctx._(
                    "interval: {interval}", interval=interval_text(ctx.t, source.interval_minutes)
                )
            )
        lines.append(
            f"- {ctx.t.ref(source.id)} · [{source_label(source)}]({source.url}) — "
            + " · ".join(details)
        )
    return Reply(text="\n".join(lines), ephemeral=True)


_SOURCE_NUMBER = Option(
    "numero",
    "number",
    N_("The number of the source, as /watch list shows it."),
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
    source = platform_source(ctx.db, args["numero"], ctx.place.platform)
    if source is None:
        raise UserError(
            ctx._(
                "There is no source {ref}. /watch list shows the sources and their numbers.",
                ref=ctx.t.ref(args["numero"]),
            )
        )
    label = source_label(source)
    ctx.db.delete(source)
    ctx.changed.update({"feeds", "digests"})
    return Reply(
        text=ctx._("Source {ref} (“{name}”) removed.", ref=ctx.t.ref(args["numero"]), name=label),
        ephemeral=True,
    )


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
    source = platform_source(ctx.db, args["numero"], ctx.place.platform)
    if source is None:
        raise UserError(
            ctx._(
                "There is no source {ref}. /watch list shows the sources and their numbers.",
                ref=ctx.t.ref(args["numero"]),
            )
        )
    minutes = read_interval(ctx, args["intervalle"])
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
            name=source_label(source),
            interval=effective,
        )
    else:
        text = ctx._(
            "Source {ref} (“{name}”) will now be fetched every {interval}.",
            ref=ctx.t.ref(source.id),
            name=source_label(source),
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
    require_channel(ctx)
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
                    "/watch import https://example.org/veille.opml"
                )
            )
        url = validated(ctx, args["url"])
        data = (await fetch(ctx, url)).content
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
    sources = channel_sources(ctx.db, ctx.place.platform, ctx.place.channel_id)
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


@autocompleter("source")
def suggest_sources(db: Session, typed: str, actor: Actor, t: Translator) -> list[tuple[str, str]]:
    """The sources of the actor's platform whose number or title contains ``typed``."""
    rows = recent_sources(db, actor.platform)
    return matching(((f"{t.ref(i)} · {title or url}", str(i)) for i, title, url in rows), typed)
