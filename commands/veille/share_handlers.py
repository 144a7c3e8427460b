"""/partager: a member shares a link for the next weekly digest of the channel where it was shared.

The page's og:title, og:description or ``<title>`` is read; an unreadable page is kept with its
address as title (said to the member), while a non-http(s) or private address is refused.
"""

from __future__ import annotations

from bot.context import Context
from bot.core import Reply, UserError
from bot.i18n import N_
from bot.registry import Args, Option, OptionType, command
from bot.storage.members import Member
from commands.veille.error_codes import describe_error, error_code
from commands.veille.fetching import feed_fetcher, validated
from commands.veille.messages import fetch_message, next_digest_text
from commands.veille.parsing import read_theme, require_channel
from commands.veille.store import add_share, pending_share
from digests.feeds import MAX_TITLE, clean_text, link_hash, looks_like_html, page_metadata
from digests.urls import FetchError

MAX_COMMENT = 1000


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
    require_channel(ctx)
    url = validated(ctx, args["url"])
    key = link_hash(url)
    platform, channel_id = ctx.place.platform, ctx.place.channel_id
    earlier = pending_share(ctx.db, platform, channel_id, key)
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
    async with feed_fetcher(ctx) as fetcher:
        try:
            result = await fetcher.fetch(url, accept="text/html, application/xhtml+xml, */*;q=0.5")
        except FetchError as exc:
            if exc.kind in ("invalid_url", "scheme", "blocked_address"):
                raise UserError(fetch_message(ctx, exc, url)) from None
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
    add_share(
        ctx.db,
        platform=platform,
        channel_id=channel_id,
        url=url,
        key=key,
        title=final_title,
        summary=summary,
        host=host,
        theme=read_theme(args["theme"]),
        comment=comment,
        member_id=ctx.member.id,
        now=now,
    )
    ctx.changed.add("digests")
    lines = [
        ctx._(
            "Thank you! “{title}” will be in the digest of #{channel} on {date}.",
            title=final_title,
            channel=ctx.place.name,
            date=next_digest_text(ctx, platform, channel_id),
        )
    ]
    if note:
        lines.append(note)
    return Reply(text="\n".join(lines), ephemeral=True)
