"""The family's listeners, registered by :func:`setup`: reactions and channel messages.

The gazette reaction (``[highlights] reaction``, 📰 by default) proposes a message: it is
recorded when a coordinator reacts, or when ``threshold`` distinct members did (3 by default).
Channel messages are remembered for ``remember_hours``, so that ``/pepite --message N`` and
reactions on platforms that do not give the text can read them.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.config import Settings
from bot.context import Context
from bot.core import MessageEvent, ReactionEvent, Reply
from bot.family import Host
from bot.registry import ReplyLike
from bot.storage.highlights import HighlightSource, RecentMessage
from bot.storage.members import upsert_member
from commands.gazette.errors import CannotReadMessage
from commands.gazette.highlights import (
    HighlightDraft,
    add_vote,
    clip_quote,
    existing_highlight,
    message_link,
    recent_message,
    record,
    remove_vote,
)
from commands.gazette.messages import recorded_text


def _reaction_matches(settings: Settings, emoji: str) -> bool:
    def clean(value: str) -> str:
        return value.replace("\ufe0f", "").strip()

    wanted = {clean(settings.highlights.reaction)} | {
        clean(alias) for alias in settings.highlights.reaction_aliases
    }
    return clean(emoji) in wanted


async def on_reaction(ctx: Context) -> ReplyLike:
    """The listener for reactions: the gazette reaction proposes (or records) a message."""
    event = ctx.event
    if not isinstance(event, ReactionEvent) or not _reaction_matches(ctx.settings, event.emoji):
        return None
    if event.place.is_direct or event.message_author is None or event.message_author.is_bot:
        return None
    ref = event.ref
    if existing_highlight(ctx.db, ref.platform, ref.channel_id, ref.message_id) is not None:
        return None
    if not event.added:
        remove_vote(ctx.db, ref.platform, ref.channel_id, ref.message_id, ctx.member)
        return None
    text = (event.message_text or "").strip()
    said_at = event.at
    if not text:
        seen = recent_message(ctx.db, ref.platform, ref.message_id, ref.channel_id)
        if seen is not None:
            text, said_at = seen.text, seen.said_at
    if not event.actor.is_coordinator:
        count = add_vote(
            ctx.db, ref.platform, ref.channel_id, ref.message_id, ctx.member, ctx.now()
        )
        if count < ctx.settings.highlights.threshold:
            return None
    if not text:
        return Reply(text=CannotReadMessage.text(ctx.t, ctx.actor.platform), ephemeral=True)
    author = upsert_member(ctx.db, event.message_author, ctx.now())
    draft = HighlightDraft(
        platform=ref.platform,
        quote=clip_quote(text, ctx.settings.highlights.max_quote_chars),
        author=author,
        said_at=said_at,
        source=HighlightSource.REACTION,
        channel_id=ref.channel_id,
        channel_name=event.place.name,
        message_id=ref.message_id,
        link=message_link(
            ctx.settings, ref.platform, ref.channel_id, event.place.name, ref.message_id
        ),
    )
    row, created, note = record(ctx, draft, ctx.member)
    return Reply(text=recorded_text(ctx, row, created, note), ephemeral=True)


def remember_message(ctx: Context) -> ReplyLike:
    """The listener for channel messages: remembered for ``remember_hours`` to be pointed at."""
    event = ctx.event
    hours = ctx.settings.highlights.remember_hours
    if not isinstance(event, MessageEvent) or hours <= 0 or event.place.is_direct:
        return None
    text = event.text.strip()
    if not text:
        return None
    now = ctx.now()
    ctx.db.execute(
        delete(RecentMessage).where(RecentMessage.said_at < now - timedelta(hours=hours))
    )
    row = RecentMessage(
        platform=event.ref.platform,
        channel_id=event.ref.channel_id,
        channel_name=event.place.name,
        message_id=event.ref.message_id,
        author_id=ctx.member.id,
        text=text[: ctx.settings.highlights.max_quote_chars * 2],
        said_at=event.at,
    )
    try:
        with ctx.db.begin_nested():
            ctx.db.add(row)
    except IntegrityError:
        pass  # the same message seen twice (a platform redelivery)
    return None


def setup(app: Host) -> None:
    app.listen("reaction", on_reaction)
    app.listen("message", remember_message)
