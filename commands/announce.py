"""/annonce (/announce): coordinators post a message in a channel, now or later.

The message goes through the outbox (idempotency key derived from the command's own message, so a
command seen twice announces once) and is delivered by the scheduler at the time asked, once, even
if the bot restarts in between.
"""

from __future__ import annotations

import hashlib
import sys

from bot.context import Context
from bot.core import CommandEvent, PlaceTarget, Reply, Role, UserError
from bot.family import Family
from bot.i18n import N_
from bot.registry import Args, Option, OptionType, command

MAX_LENGTH = 3000


@command(
    "annonce",
    "announce",
    N_("Posts an announcement in a channel, now or at a given time."),
    options=[
        Option(
            "canal",
            "channel",
            N_("The channel, for example #general."),
            type=OptionType.CHANNEL,
            positional=True,
            required=True,
        ),
        Option(
            "texte",
            "text",
            N_("The text of the announcement."),
            type=OptionType.TEXT,
            positional=True,
            required=True,
        ),
        Option(
            "quand",
            "when",
            N_('When to post it, for example "lundi 9h" (default: now).'),
            type=OptionType.STRING,
        ),
    ],
    permission=Role.COORDINATOR,
    examples=(
        '/annonce #general "Le webinaire commence dans 10 minutes !"',
        '/annonce #general "Bonne semaine à toutes et à tous" --quand "lundi 9h"',
    ),
)
def announce(ctx: Context, args: Args) -> Reply:
    text: str = args["texte"]
    if len(text) > MAX_LENGTH:
        raise UserError(
            ctx._(
                "The announcement is too long ({length} characters); keep it under {limit}.",
                length=len(text),
                limit=MAX_LENGTH,
            )
        )
    place = ctx.find_channel(args["canal"])
    now = ctx.now()
    due = now
    if args["quand"]:
        due = ctx.read_date(args["quand"], need_time=True)
        if due < now:
            raise UserError(
                ctx._(
                    "{date} is in the past. Give a date to come, or leave out --quand to post now.",
                    date=ctx.t.datetime(due),
                )
            )
    ref = ctx.event.ref if isinstance(ctx.event, CommandEvent) else None
    origin = ref.message_id if ref is not None else None
    seed = origin or f"{now.isoformat()}:{text}"
    digest = hashlib.sha256(f"{ctx.member.id}:{place.channel_id}:{seed}".encode()).hexdigest()[:20]
    announcement = Reply(text=f"📣 {text}\n\n— {ctx.member.display_name}")
    ctx.send_later(
        f"announce:{digest}",
        announcement,
        PlaceTarget(platform=place.platform, channel_id=place.channel_id),
        due,
    )
    if due == now:
        return Reply(
            text=ctx._("Announcement sent to #{channel}.", channel=place.name), ephemeral=True
        )
    return Reply(
        text=ctx._(
            "Announcement scheduled for {date} in #{channel}.",
            date=ctx.t.datetime(due),
            channel=place.name,
        ),
        ephemeral=True,
    )


FAMILY = Family(
    name="announce",
    handlers=(sys.modules[__name__],),
    outbox_topics=("announce",),
)
