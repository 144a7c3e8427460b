"""REST: channel messages (create with ``enforce_nonce``, read, edit, delete) and the
MESSAGE_CREATE / MESSAGE_UPDATE dispatches they cause."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.platforms.discord.types import (
    Attachment,
)
from tests.fakes.discord.bodies import (
    media_type_of,
    validate_components,
)
from tests.fakes.discord.gateway import Gateway
from tests.fakes.discord.model import (
    Call,
    DiscordHTTPError,
    FakeChannel,
    FakeInteraction,
    FakeMessage,
    form_error,
    json_answer,
    utc_now,
)
from tests.fakes.discord.protocol import (
    ATTACHMENT_SIZE_LIMIT,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    MAX_CONTENT,
    MAX_NONCE,
    MESSAGE_DEFAULT,
)


class Messages(Gateway):
    """Channel messages on top of the gateway."""

    # --- REST: messages --------------------------------------------------------------------------

    def _channel(self, channel_id: int) -> FakeChannel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise DiscordHTTPError(404, 10003, "Unknown Channel")
        return channel

    def _store_message(
        self,
        channel: FakeChannel,
        author_id: int,
        content: str,
        *,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes]] | None = None,
        flags: int = 0,
        message_type: int = MESSAGE_DEFAULT,
        interaction: FakeInteraction | None = None,
    ) -> FakeMessage:
        body = body or {}
        message = FakeMessage(
            id=self._ids.next(),
            channel_id=channel.id,
            author_id=author_id,
            content=content,
            created_at=utc_now(),
            guild_id=channel.guild_id,
            type=message_type,
            flags=flags,
            nonce=None if body.get("nonce") is None else str(body["nonce"]),
            components=list(body.get("components") or []),  # validated: ActionRow
            allowed_mentions=body.get("allowed_mentions"),
        )
        if interaction is not None:
            message.interaction_id = interaction.id
            message.application_id = self.application_id
            if flags & FLAG_EPHEMERAL:
                message.ephemeral_to = interaction.user_id
        self._attach(message, body, files or {})
        self.messages[message.id] = message
        if not message.ephemeral:
            channel.last_message_id = message.id
        return message

    def _attach(
        self, message: FakeMessage, body: Mapping[str, Any], files: Mapping[str, tuple[str, bytes]]
    ) -> None:
        """Apply ``attachments`` + ``files[n]`` of a create or edit request."""
        if not files and "attachments" not in body:
            return
        kept: list[Attachment] = []
        known = {a["id"]: a for a in message.attachments}
        for index, meta in enumerate(body.get("attachments") or []):
            ident = str(meta.get("id", index))
            if ident in known:
                kept.append(known[ident])
                continue
            upload = files.get(f"files[{ident}]")
            if upload is None:
                raise form_error(f"attachments.{index}", "ATTACHMENT_NOT_FOUND", "Unknown file")
            kept.append(self._attachment(message, meta.get("filename") or upload[0], upload[1]))
        listed = {f"files[{a.get('id', i)}]" for i, a in enumerate(body.get("attachments") or [])}
        for name, (filename, data) in files.items():
            if name not in listed:
                kept.append(self._attachment(message, filename, data))
        message.attachments = kept

    def _attachment(self, message: FakeMessage, filename: str, data: bytes) -> Attachment:
        if len(data) > ATTACHMENT_SIZE_LIMIT:
            raise DiscordHTTPError(413, 40005, "Request entity too large")
        ident = self._ids.next()
        message.files[filename] = data
        url = f"{self.root_url}/attachments/{message.channel_id}/{ident}/{filename}"
        return {
            "id": str(ident),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": media_type_of(filename),
        }

    def _validate_message(self, body: Mapping[str, Any], files: Mapping[str, Any]) -> None:
        mentions = body.get("allowed_mentions")
        if mentions is not None:
            parse = mentions.get("parse") or []
            users = mentions.get("users")
            if not set(parse) <= {"roles", "users", "everyone"}:
                raise form_error("allowed_mentions.parse", "BASE_TYPE_CHOICES", "bad value")
            if users is not None and ("users" in parse or len(users) > 100):
                raise form_error(
                    "allowed_mentions.users", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", "users"
                )
        content = body.get("content")
        if content is not None and len(str(content)) > MAX_CONTENT:
            raise form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > MAX_NONCE:
            raise form_error("nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        validate_components(body.get("components") or [])

    async def _post_message(self, call: Call) -> web.StreamResponse:
        channel = self._channel(call.snowflake("channel"))
        body = call.body if isinstance(call.body, dict) else {}
        files = call.record.files
        self._validate_message(body, files)
        if not (body.get("content") or body.get("components") or files or body.get("embeds")):
            raise DiscordHTTPError(400, 50006, "Cannot send an empty message")
        if channel.is_dm:
            assert channel.recipient_id is not None
            if self.users[channel.recipient_id].dms_closed:
                raise DiscordHTTPError(403, 50007, "Cannot send messages to this user")
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            known = self._nonces.get((self.bot.id, str(nonce)))
            if known is not None and time.monotonic() - known[1] < self.nonce_window:
                existing = self.messages[known[0]]
                return json_answer(self._message_payload(existing))
        message = self._store_message(
            channel, self.bot.id, str(body.get("content") or ""), body=body, files=files
        )
        if nonce is not None:
            self._nonces[(self.bot.id, str(nonce))] = (message.id, time.monotonic())
        await self._dispatch_message_create(message)
        return json_answer(self._message_payload(message))

    def _message_in(self, channel_id: int, message_id: int) -> FakeMessage:
        self._channel(channel_id)
        message = self.messages.get(message_id)
        if (
            message is None
            or message.channel_id != channel_id
            or message.deleted
            or message.ephemeral
        ):
            raise DiscordHTTPError(404, 10008, "Unknown Message")
        return message

    async def _get_message(self, call: Call) -> web.StreamResponse:
        message = self._message_in(call.snowflake("channel"), call.snowflake("message"))
        return json_answer(self._message_payload(message))

    async def _patch_message(self, call: Call) -> web.StreamResponse:
        message = self._message_in(call.snowflake("channel"), call.snowflake("message"))
        if message.author_id != self.bot.id:
            raise DiscordHTTPError(403, 50005, "Cannot edit a message authored by another user")
        body = call.body if isinstance(call.body, dict) else {}
        self._edit(message, body, call.record.files)
        await self._dispatch_message_update(message)
        return json_answer(self._message_payload(message))

    async def _delete_message(self, call: Call) -> web.StreamResponse:
        message = self._message_in(call.snowflake("channel"), call.snowflake("message"))
        message.deleted = True
        return web.Response(status=204)

    def _edit(
        self, message: FakeMessage, body: Mapping[str, Any], files: Mapping[str, tuple[str, bytes]]
    ) -> None:
        self._validate_message(body, files)
        if "content" in body:
            message.content = str(body["content"] or "")
        if "components" in body:
            message.components = list(body["components"] or [])
        if "allowed_mentions" in body:
            message.allowed_mentions = body["allowed_mentions"]
        if "flags" in body and body["flags"] is not None:
            message.flags = (message.flags & FLAG_EPHEMERAL) | int(body["flags"])
        self._attach(message, body, files)
        message.flags &= ~FLAG_LOADING
        message.edited_at = utc_now()
        message.edits += 1

    async def _dispatch_message_update(self, message: FakeMessage) -> None:
        if message.ephemeral:
            return
        channel = self.channels[message.channel_id]
        data = self._message_payload(message)
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        intent = INTENT_DIRECT_MESSAGES if channel.is_dm else INTENT_GUILD_MESSAGES
        await self.dispatch("MESSAGE_UPDATE", data, intent=intent)
