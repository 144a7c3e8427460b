"""Replies: interaction responses, follow-ups, posts and edits.

:meth:`Delivery.respond` answers an interaction with its response (``ephemeral`` flag when
``reply.ephemeral``), or fills the deferred "thinking" message; further replies to the same event
are follow-ups. A reply that edits the clicked message updates it (``UPDATE_MESSAGE``).
Elsewhere a reply is posted in the channel, or in a direct message.

Idempotent delivery
    :meth:`Delivery.deliver` posts with ``nonce`` = a 24-character digest of the outbox token and
    ``enforce_nonce``: Discord then answers a second post with the same nonce, within a few
    minutes, with the first message instead of creating another, so a retry after a crash posts
    once. A member's direct messages are closed when they turned off "Direct Messages" in the
    server's Privacy Settings (or blocked the bot): the platform's ``open_dm_help`` tells them how
    to open them again.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import discord

from bot.core import (
    ChoiceEvent,
    DeliveryCode,
    DirectTarget,
    Event,
    MessageRef,
    PlaceTarget,
    Reply,
    Target,
)
from bot.platforms.discord.settings import PLATFORM, DiscordSettings
from bot.platforms.discord.state import INTERACTION_TOKEN_LIFETIME, Pending, Sent, State
from bot.platforms.discord.transport import DiscordDeliveryError, to_int, translate_errors
from bot.platforms.discord.views import MAX_CONTENT, allowed_mentions, choice_view, files

NONCE_LENGTH = 24
"""Discord nonces are at most 25 characters."""


def message_nonce(token: str) -> str:
    """The Discord nonce for an outbox token: stable, 24 characters (Discord allows 25)."""
    return hashlib.blake2b(token.encode(), digest_size=NONCE_LENGTH // 2).hexdigest()


def split_text(text: str, limit: int = MAX_CONTENT) -> list[str]:
    """Cut ``text`` into messages of at most ``limit`` characters, at line breaks when possible."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    return [p.rstrip("\n") or p for p in parts]


def _same_place(target: Target, event: Event) -> bool:
    if isinstance(target, PlaceTarget):
        return target.channel_id == event.place.channel_id
    return event.place.is_direct and target.user_id == event.actor.user_id


class Delivery:
    """Posts and edits the bot's messages, through interactions while they can."""

    def __init__(self, settings: DiscordSettings, state: State) -> None:
        self.settings = settings
        self._state = state

    async def respond(self, event: Event, reply: Reply) -> MessageRef | None:
        pending = self._state.pending.get(id(event))
        if pending is not None and pending.event is not event:
            pending = None
        if reply.edit is not None:
            if (
                pending is not None
                and pending.is_component
                and isinstance(event, ChoiceEvent)
                and event.ref == reply.edit
            ):
                async with pending.lock:
                    await self._update_clicked(pending, reply)
                return reply.edit
            await self.edit(reply.edit, reply)
            return reply.edit
        target = reply.target
        if pending is not None and (target is None or _same_place(target, event)):
            return await self._respond_interaction(pending, reply)
        if target is None:
            if reply.ephemeral and not event.place.is_direct:
                target = DirectTarget(PLATFORM, event.actor.user_id)
            else:
                target = PlaceTarget(PLATFORM, event.place.channel_id)
        return await self._post(reply, target, token=None)

    async def deliver(self, reply: Reply, target: Target, token: str) -> MessageRef:
        return await self._post(reply, target, token=token)

    def _edit_arguments(self, reply: Reply) -> dict[str, Any]:
        text = reply.text if len(reply.text) <= MAX_CONTENT else reply.text[: MAX_CONTENT - 1] + "…"
        kwargs: dict[str, Any] = {
            "content": text,
            "view": choice_view(reply.choices, self.settings.max_buttons),
            "allowed_mentions": allowed_mentions(reply),
        }
        if reply.attachments:
            kwargs["attachments"] = files(reply.attachments)
        return kwargs

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        self._state.prune()
        kwargs = self._edit_arguments(reply)
        sent = self._state.sent.get(to_int(ref.message_id))
        with translate_errors():
            if sent is not None and sent.original:
                await sent.interaction.edit_original_response(**kwargs)
            elif sent is not None:
                await sent.interaction.followup.edit_message(to_int(ref.message_id), **kwargs)
            else:
                channel = self._state.started_client().get_partial_messageable(
                    to_int(ref.channel_id)
                )
                await channel.get_partial_message(to_int(ref.message_id)).edit(**kwargs)

    async def _post(self, reply: Reply, target: Target, *, token: str | None) -> MessageRef:
        parts = split_text(reply.text)
        view = choice_view(reply.choices, self.settings.max_buttons)
        if not parts[0] and view is None and not reply.attachments:
            raise DiscordDeliveryError(DeliveryCode.REJECTED, "empty message", permanent=True)
        mentions = allowed_mentions(reply)
        with translate_errors():
            channel = await self._messageable(target)
            message: discord.Message | None = None
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                kwargs: dict[str, Any] = {"content": part or None, "allowed_mentions": mentions}
                if token is not None:
                    kwargs["nonce"] = message_nonce(token if index == 0 else f"{token}#{index}")
                if last and view is not None:
                    kwargs["view"] = view
                if last and reply.attachments:
                    kwargs["files"] = files(reply.attachments)
                message = await channel.send(**kwargs)
        assert message is not None
        return MessageRef(PLATFORM, str(message.channel.id), str(message.id))

    async def _messageable(self, target: Target) -> discord.abc.Messageable:
        client = self._state.started_client()
        if isinstance(target, PlaceTarget):
            return client.get_partial_messageable(to_int(target.channel_id))
        user_id = to_int(target.user_id)
        user = client.get_user(user_id) or await client.fetch_user(user_id)
        return user.dm_channel or await user.create_dm()

    async def _respond_interaction(self, pending: Pending, reply: Reply) -> MessageRef:
        parts = split_text(reply.text)
        view = choice_view(reply.choices, self.settings.max_buttons)
        mentions = allowed_mentions(reply)
        interaction = pending.interaction
        refs: list[MessageRef] = []
        channel_id = str(interaction.channel_id)
        expires = time.monotonic() + INTERACTION_TOKEN_LIFETIME
        async with pending.lock:
            with translate_errors():
                for index, part in enumerate(parts):
                    last = index == len(parts) - 1
                    kwargs: dict[str, Any] = {"allowed_mentions": mentions}
                    if part:
                        kwargs["content"] = part
                    if last and view is not None:
                        kwargs["view"] = view
                    if last and reply.attachments:
                        kwargs["files"] = files(reply.attachments)
                    message_id, original = await self._answer(pending, reply.ephemeral, kwargs)
                    self._state.sent[message_id] = Sent(interaction, original, expires)
                    refs.append(MessageRef(PLATFORM, channel_id, str(message_id)))
        return refs[-1]

    async def _answer(
        self, pending: Pending, ephemeral: bool, kwargs: dict[str, Any]
    ) -> tuple[int, bool]:
        """Send one message for the interaction; returns its id and whether it is the original."""
        interaction = pending.interaction
        if not interaction.response.is_done():
            callback = await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
            if callback.message_id is not None:
                return callback.message_id, True
            original = await interaction.original_response()
            return original.id, True
        if pending.loading:
            pending.loading = False
            if pending.deferred_ephemeral == ephemeral:
                if "files" in kwargs:
                    kwargs["attachments"] = kwargs.pop("files")
                message = await interaction.edit_original_response(**kwargs)
                return message.id, True
            # The "thinking" message cannot change its visibility: replace it.
            await interaction.delete_original_response()
        followup = await interaction.followup.send(ephemeral=ephemeral, wait=True, **kwargs)
        return followup.id, False

    async def _update_clicked(self, pending: Pending, reply: Reply) -> None:
        """Edit the clicked message: UPDATE_MESSAGE (type 7), or after a deferred update, the
        "original response" (which for a component is the message it belongs to, ephemeral
        or not)."""
        kwargs = self._edit_arguments(reply)
        interaction = pending.interaction
        with translate_errors():
            if not interaction.response.is_done():
                await interaction.response.edit_message(**kwargs)
            else:
                await interaction.edit_original_response(**kwargs)
        if interaction.message is not None:
            expires = time.monotonic() + INTERACTION_TOKEN_LIFETIME
            self._state.sent.setdefault(interaction.message.id, Sent(interaction, True, expires))
