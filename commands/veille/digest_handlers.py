"""/digest: the weekly digest of a channel (set its day and time, preview it, pin an item or
leave one out)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import Actor, Reply, Role, UserError
from bot.i18n import N_, Translator
from bot.registry import Args, Option, OptionType, autocompleter, command
from bot.storage.veille import FeedEntry
from commands.veille.digest import build_preview
from commands.veille.messages import next_digest_text
from commands.veille.parsing import matching, parse_schedule, require_channel
from commands.veille.schedule import next_slot
from commands.veille.store import pending_items, set_schedule


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
    now = ctx.now()
    set_schedule(
        ctx.db,
        platform=place.platform,
        channel_id=place.channel_id,
        channel_name=place.name,
        schedule=schedule,
        member_id=ctx.member.id,
        now=now,
    )
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
        require_channel(ctx)
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
    when = next_digest_text(ctx, platform, channel_id)
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
            "Item {ref} (“{title}”) is left out of the next digest. To put it back: /digest "
            "restore {n}.",
            ref=ctx.t.ref(entry.id),
            title=entry.title,
            n=entry.id,
        ),
        ephemeral=True,
    )


@command(
    "remettre",
    "restore",
    N_("Puts back an item left out of the next digest (undoes /digest drop)."),
    group="digest",
    group_alias="digest",
    options=[_NUMBER],
    permission=Role.COORDINATOR,
    examples=("/digest remettre 12",),
)
def restore(ctx: Context, args: Args) -> Reply:
    entry = _pending_entry(ctx, args["numero"])
    if not entry.dropped:
        return Reply(
            text=ctx._(
                "Item {ref} (“{title}”) was not left out: nothing to put back.",
                ref=ctx.t.ref(entry.id),
                title=entry.title,
            ),
            ephemeral=True,
        )
    entry.dropped = False
    return Reply(
        text=ctx._(
            "Item {ref} (“{title}”) is back among the candidates of the next digest.",
            ref=ctx.t.ref(entry.id),
            title=entry.title,
        ),
        ephemeral=True,
    )


@autocompleter("digest_item")
def suggest_items(db: Session, typed: str, actor: Actor, t: Translator) -> list[tuple[str, str]]:
    """The items waiting for a digest whose number or title contains ``typed``."""
    rows = pending_items(db, actor.platform)
    return matching(((f"{t.ref(i)} · {title}", str(i)) for i, title in rows), typed)
