"""Replies: rendering, posting once, files, and the errors ``deliver`` may raise.

``chat.sendMessage`` with a client-chosen ``_id`` for everything: ``deliver`` derives the id from
the outbox token, so a retry never posts twice; ``respond`` from the message answered (the
*n*-th reply to a message gets ``reply:<id>:<n>``, so a command handled again after a crash is
refused by the server as a duplicate, and its answer tells the next run it was handled; random
for reactions, which can be several per message). For an ``_id`` that already exists the server
answers 400 (``Cannot read properties of undefined (reading 'starred')``); the adapter then reads
the message with ``chat.getMessage`` and, when it is the bot's own in the same room, treats it as
already delivered. Direct messages through ``im.create``; files through ``rooms.media`` +
``rooms.mediaConfirm`` (``rooms.upload`` on servers without them), one message per file after
the text (on a retry, files already posted after the text are not posted again); long texts are
split at line breaks (5,000 characters by default, the server's ``Message_MaxAllowedSize``). A
reply with choices carries their buttons (see :mod:`.reactions`). Mass mentions (``@all``,
``@here``, ``@everyone``) are neutralised unless ``reply.mentions``; a ``Reply.ping`` is written
``@username``. Neutral Markdown is rendered by :mod:`.markdown`.

``chat.update`` only edits the text (attachments cannot be edited): an edit changes the text and
the numbered list, the buttons stay as posted.

Errors: 5xx and network errors raise :class:`~bot.core.DeliveryError`; 4xx that retrying cannot
fix raise it with ``permanent=True``; a rate limit longer than the call may wait raises it with
``retry_after``.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Iterator, Mapping
from typing import cast

from bot.core import (
    Attachment,
    ConfigError,
    DeliveryError,
    DirectTarget,
    Event,
    MessageRef,
    PlaceTarget,
    Reply,
    Target,
    render_mentions,
)
from bot.platforms.rocketchat.markdown import neutralize_mass_mentions, to_rocketchat
from bot.platforms.rocketchat.reactions import CHOICE_KEYWORD, NUMBER_EMOJIS, Reactions
from bot.platforms.rocketchat.rest import RateLimited, RestError, RocketChatError, Transport
from bot.platforms.rocketchat.rooms import Rooms
from bot.platforms.rocketchat.settings import PLATFORM, RocketChatSettings
from bot.platforms.rocketchat.state import Memory, Stats
from bot.platforms.rocketchat.types import (
    ButtonAction,
    Message,
    MessageAttachment,
    NewMessage,
    Reaction,
    UploadedFile,
    UserRef,
    ms,
)
from bot.platforms.rocketchat.users import Users

MAX_MESSAGE_LENGTH = 5000
_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"


def message_id_for(token: str) -> str:
    """The Rocket.Chat message ``_id`` (17 Meteor-alphabet characters) for an outbox token."""
    number = int.from_bytes(hashlib.sha256(f"tisserand:{token}".encode()).digest(), "big")
    chars = []
    for _ in range(17):
        number, rest = divmod(number, len(_ID_ALPHABET))
        chars.append(_ID_ALPHABET[rest])
    return "".join(chars)


def _random_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into messages of at most ``limit`` characters, at line breaks when possible."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


class Delivery:
    """Posts and edits the bot's messages."""

    def __init__(
        self,
        settings: RocketChatSettings,
        transport: Transport,
        rooms: Rooms,
        users: Users,
        reactions: Reactions,
        memory: Memory,
        stats: Stats,
        max_message_length: int,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._rooms = rooms
        self._users = users
        self._reactions = reactions
        self._memory = memory
        self._stats = stats
        self._max_len = max_message_length

    @contextlib.contextmanager
    def mapping_errors(self, what: str) -> Iterator[None]:
        """Map failures to :class:`DeliveryError` (the only error ``deliver`` may raise)."""
        try:
            yield
        except RateLimited as exc:
            raise DeliveryError(f"{what}: rate limited", retry_after=exc.retry_after) from None
        except RestError as exc:
            status = exc.status
            if status is None or status >= 500 or status in (401, 403, 408):
                raise DeliveryError(f"{what}: {exc}") from None
            raise DeliveryError(f"{what}: {exc}", permanent=True) from None
        except (RocketChatError, ConfigError) as exc:
            raise DeliveryError(f"{what}: {exc}") from None

    async def respond(self, event: Event, reply: Reply) -> MessageRef | None:
        if reply.edit is not None:
            await self.edit(reply.edit, reply)
            return reply.edit
        target: Target
        if reply.target is not None:
            target = reply.target
        elif reply.ephemeral:
            target = DirectTarget(PLATFORM, event.actor.user_id)
        else:
            target = PlaceTarget(PLATFORM, event.place.channel_id)
        with self.mapping_errors("respond"):
            room_id = await self._rooms.room_for(target)
            tmid = None
            ref = getattr(event, "ref", None)
            if isinstance(ref, MessageRef) and ref.channel_id == room_id:
                tmid = self._memory.threads.get(ref.message_id)
            return await self._post(room_id, reply, self._reply_id(event), tmid)
        raise AssertionError("unreachable")  # pragma: no cover

    def _reply_id(self, event: Event) -> str:
        """The ``_id`` of a reply. The n-th reply to a message gets an id derived from that
        message's, so a message handled again after a crash is not answered twice (the server
        refuses the same ``_id``) and its answer tells the next run it was handled."""
        origin = self._memory.origins.get(id(event))
        if origin is None:
            return _random_id()  # reactions: several events per message
        msg_id, count = origin
        origin[1] = count + 1
        return message_id_for(f"reply:{msg_id}:{count}")

    async def deliver(self, reply: Reply, target: Target, token: str) -> MessageRef:
        with self.mapping_errors("deliver"):
            room_id = await self._rooms.room_for(target)
            return await self._post(room_id, reply, message_id_for(token), None)
        raise AssertionError("unreachable")  # pragma: no cover

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        text = self.render(reply)[: self._max_len - 1]
        if not reply.mentions:  # the cut may leave "@all" of "@allez" at the end
            text = neutralize_mass_mentions(text)
        with self.mapping_errors("edit"):
            await self._transport.update_message(ref.channel_id, ref.message_id, text)

    async def _ping_names(self, reply: Reply) -> dict[str, str]:
        """The username of each member a reply pings (``@username`` is Rocket.Chat's mention)."""
        names: dict[str, str] = {}
        for mention in reply.ping:
            user = await self._users.info(user_id=mention.user_id)
            if user is not None and user.username:
                names[mention.user_id] = user.username
        return names

    def render(self, reply: Reply, usernames: Mapping[str, str] | None = None) -> str:
        """The text of ``reply`` in Rocket.Chat's syntax, its choices listed after it."""
        text = to_rocketchat(reply.text)
        if reply.ping:
            known = usernames or {}
            # A member whose username is unknown is named, not pinged.
            text = render_mentions(
                text,
                reply.ping,
                lambda m: f"@{known[m.user_id]}" if m.user_id in known else m.name,
            )
        if reply.choices:
            numbered = len(reply.choices) <= len(NUMBER_EMOJIS)
            lines = []
            for index, choice in enumerate(reply.choices):
                marker = NUMBER_EMOJIS[index] if numbered else f"{index + 1}."
                label = to_rocketchat(choice.label)
                if choice.emoji:
                    label = f"{choice.emoji} {label}"
                lines.append(f"{marker} {label}")
            listing = "\n".join(lines)
            text = f"{text}\n\n{listing}" if text else listing
        if not reply.mentions:
            text = neutralize_mass_mentions(text, keep=(usernames or {}).values())
        return text

    def _choice_attachment(self, reply: Reply) -> MessageAttachment:
        actions: list[ButtonAction] = []
        for index, choice in enumerate(reply.choices):
            label = neutralize_mass_mentions(choice.label)
            if choice.emoji:
                label = f"{choice.emoji} {label}"
            actions.append(
                {
                    "type": "button",
                    "text": f"{index + 1}. {label}",
                    "msg": f"{self.settings.command_prefix}{CHOICE_KEYWORD} {choice.action}",
                    "msg_in_chat_window": True,
                    "msg_processing_type": "sendMessage",
                }
            )
        return {"button_alignment": "vertical", "actions": actions}

    async def _post(self, room_id: str, reply: Reply, base_id: str, tmid: str | None) -> MessageRef:
        usernames = await self._ping_names(reply) if reply.ping else None
        # A cut inside "@allez" may leave "@all" at the end of a chunk: each chunk is checked
        # again, which adds at most one character (hence one less than the limit).
        chunks = split_text(self.render(reply, usernames), self._max_len - 1)
        if not reply.mentions:
            keep = (usernames or {}).values()
            chunks = [neutralize_mass_mentions(chunk, keep=keep) for chunk in chunks]
        first: Message | None = None
        first_fresh = True
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            message: NewMessage = {
                "_id": base_id if index == 0 else message_id_for(f"{base_id}:{index}"),
                "rid": room_id,
                "msg": chunk,
            }
            if tmid:
                message["tmid"] = tmid
            if last and reply.choices:
                message["attachments"] = [self._choice_attachment(reply)]
            stored, fresh = await self._send(message)
            if index == 0:
                first, first_fresh = stored, fresh
            if last and reply.choices and self.settings.number_reactions:
                await self._add_number_reactions(stored, len(reply.choices))
        assert first is not None
        if reply.attachments:
            await self._upload(room_id, reply.attachments, first, resumed=not first_fresh)
        return MessageRef(PLATFORM, room_id, str(first["_id"]))

    async def _send(self, message: NewMessage) -> tuple[Message, bool]:
        """Post with a client-chosen ``_id``; (the stored message, False) if it already existed."""
        msg_id = str(message["_id"])
        self._memory.seen.put(msg_id, True)
        self._reactions.posted(msg_id)
        try:
            data = await self._transport.send_message(message)
        except RestError as exc:
            if exc.status != 400:
                raise
            existing = await self._own_message(msg_id, str(message["rid"]))
            if existing is None:
                raise
            self._stats.duplicates_avoided += 1
            return existing, False
        stored = data.get("message")
        # An answer without the stored message: what was sent stands for it.
        return (stored if isinstance(stored, dict) else cast(Message, message)), True

    async def _own_message(self, msg_id: str, room_id: str) -> Message | None:
        try:
            data = await self._transport.get_message(msg_id)
        except RestError as exc:
            if exc.status == 400:
                return None
            raise
        found = data.get("message")
        if not isinstance(found, dict) or found.get("rid") != room_id:
            return None
        author: UserRef | dict[str, str] = found.get("u") or {}
        return found if author.get("_id") == self._transport.user_id else None

    async def _add_number_reactions(self, message: Message, count: int) -> None:
        if count > len(NUMBER_EMOJIS):
            return
        present = message.get("reactions") or {}
        msg_id = str(message["_id"])
        for emoji in NUMBER_EMOJIS[:count]:
            reaction: Reaction | dict[str, list[str]] = present.get(emoji) or {}
            if self._transport.username in reaction.get("usernames", []):
                continue
            await self._transport.react(msg_id, emoji)

    async def _upload(
        self,
        room_id: str,
        attachments: tuple[Attachment, ...],
        first: Message,
        *,
        resumed: bool,
    ) -> None:
        already: set[str] = set()
        if resumed:
            already = await self._files_posted_since(room_id, first)
        for attachment in attachments:
            if attachment.filename in already:
                continue
            payload = (attachment.filename, attachment.data, attachment.media_type)
            try:
                data = await self._transport.upload(room_id, payload)
            except RestError as exc:
                if exc.status != 404:
                    raise
                await self._transport.upload_legacy(room_id, payload)
                continue
            file: UploadedFile | dict[str, str] = data.get("file") or {}
            await self._transport.confirm_upload(room_id, str(file.get("_id")))

    async def _files_posted_since(self, room_id: str, first: Message) -> set[str]:
        since = ms(first.get("ts"))
        if since is None:
            return set()
        room = await self._rooms.info(room_id, {})
        names: set[str] = set()
        messages, _ = await self._rooms.history(room, since)
        for message in messages:
            author: UserRef | dict[str, str] = message.get("u") or {}
            if author.get("_id") != self._transport.user_id:
                continue
            files: list[object] = [*(message.get("files") or [])]  # untrusted JSON
            for file in files or [message.get("file") or {}]:
                if isinstance(file, dict) and file.get("name"):
                    names.add(str(file["name"]))
        return names
