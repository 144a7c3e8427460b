"""Where the gazette talks to coordinators: drafts, consent news, never a members' channel.

``[gazette] coordination_channel`` names a channel of coordinators; without it, drafts are
answered privately to the coordinator who asked, and consent news goes by direct message to the
coordinator who compiled the gazette concerned.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace

from bot.context import Context
from bot.core import DirectTarget, PlaceTarget, Reply, Target
from bot.storage.members import Member, PlaceRow, find_place_by_name


def coordination_place(ctx: Context) -> PlaceRow | None:
    """The coordination channel of the actor's platform, when configured and known."""
    name = ctx.settings.gazette.coordination_channel
    if not name:
        return None
    return find_place_by_name(ctx.db, ctx.actor.platform, name)


def deliver(ctx: Context, reply: Reply) -> Reply:
    """Show ``reply`` to coordinators only: in the coordination channel, or privately."""
    place = coordination_place(ctx)
    if place is None:
        return replace(reply, ephemeral=True)
    if (place.platform, place.channel_id) == (ctx.place.platform, ctx.place.channel_id):
        return reply
    ctx.send_later(
        f"gazette:draft:{uuid.uuid4().hex}",
        reply,
        PlaceTarget(platform=place.platform, channel_id=place.channel_id),
        ctx.now(),
    )
    return Reply(
        text=ctx._("The draft is in #{channel}, the coordinators' channel.", channel=place.name),
        ephemeral=True,
    )


def tell_coordinators(ctx: Context, key: str, reply: Reply, creators: Iterable[int | None]) -> int:
    """Send ``reply`` to the coordination channel, or to each compiler in ``creators``.

    Returns how many messages were queued.
    """
    place = coordination_place(ctx)
    targets: list[Target] = []
    if place is not None:
        targets.append(PlaceTarget(platform=place.platform, channel_id=place.channel_id))
    else:
        for member_id in dict.fromkeys(c for c in creators if c is not None):
            member = ctx.db.get(Member, member_id)
            if member is not None:
                targets.append(DirectTarget(platform=member.platform, user_id=member.user_id))
    for index, target in enumerate(targets):
        ctx.send_later(f"{key}:{index}", reply, target, ctx.now())
    return len(targets)
