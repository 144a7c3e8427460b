"""The gateway of the fake Discord: dispatches to live sessions, the websocket protocol (HELLO,
heartbeats, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, zlib-stream), connection faults, and
the payloads it sends."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import WSMsgType, web

from bot.platforms.discord.types import (
    Channel,
    Dispatch,
    Member,
    Message,
)
from tests.fakes.discord.model import (
    Connection,
    FakeChannel,
    FakeGuild,
    FakeMessage,
    FakeUser,
    GatewaySession,
    iso_time,
)
from tests.fakes.discord.protocol import (
    CHANNEL_DM,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    OP_DISPATCH,
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE_UPDATE,
    OP_RECONNECT,
    OP_REQUEST_GUILD_MEMBERS,
    OP_RESUME,
    OP_VOICE_STATE_UPDATE,
    PRIVILEGED_INTENTS,
)
from tests.fakes.discord.state import ServerState


class Gateway(ServerState):
    """The gateway on top of the state."""

    async def dispatch(self, event: str, data: Mapping[str, Any], *, intent: int = 0) -> None:
        """Send a dispatch to every live session whose intents include ``intent`` (0: always)."""
        for session in list(self.sessions.values()):
            if session.invalid or (intent and not session.intents & intent):
                continue
            async with session.lock:
                session.seq += 1
                payload: Dispatch = {
                    "op": OP_DISPATCH,
                    "t": event,
                    "s": session.seq,
                    "d": dict(data),
                }
                session.sent.append(payload)
                if session.connection is not None:
                    await session.connection.send(payload)
        self._touch()

    # --- gateway: connection faults ----------------------------------------------------------

    def hold_gateway(self) -> None:
        """New gateway connections wait (before HELLO) until :meth:`release_gateway`."""
        self._gate.clear()

    def release_gateway(self) -> None:
        self._gate.set()

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close every gateway connection with ``code`` (4000: "Unknown error, reconnect").

        Sessions stay resumable: dispatches sent until the client resumes are buffered and
        replayed on RESUME.
        """
        for session in self.sessions.values():
            async with session.lock:
                connection, session.connection = session.connection, None
            if connection is not None:
                await connection.ws.close(code=code)
        self._touch()

    async def request_reconnect(self) -> None:
        """Send RECONNECT (op 7) on every live connection."""
        for session in self.sessions.values():
            if session.connection is not None:
                await session.connection.send({"op": OP_RECONNECT, "d": None})

    async def invalidate_sessions(self) -> None:
        """Send INVALID_SESSION (op 9, not resumable) on every live connection."""
        for session in self.sessions.values():
            session.invalid = True
            if session.connection is not None:
                await session.connection.send({"op": OP_INVALID_SESSION, "d": False})
        self._touch()

    # --- gateway: protocol -------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress")
        if request.query.get("encoding", "json") != "json" or compress not in (None, "zlib-stream"):
            await ws.close(code=4000, message=b"the fake speaks json and zlib-stream only")
            return ws
        connection = Connection(ws, request.path, compress)
        self._connections.add(connection)
        self.connection_paths.append(request.path)
        self._touch()
        try:
            await self._gate.wait()
            await connection.send(
                {
                    "op": OP_HELLO,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                    "s": None,
                    "t": None,
                }
            )
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                await self._gateway_message(connection, json.loads(message.data))
        finally:
            self._connections.discard(connection)
            session = connection.session
            if session is not None:
                async with session.lock:
                    if session.connection is connection:
                        session.connection = None
                        # "When you close the connection to the gateway with close code 1000
                        # or 1001, your session will be invalidated."
                        if ws.close_code in (1000, 1001):
                            session.invalid = True
            self._touch()
        return ws

    async def _gateway_message(self, connection: Connection, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == OP_HEARTBEAT:
            connection.heartbeats += 1
            await connection.send({"op": OP_HEARTBEAT_ACK})
        elif op == OP_IDENTIFY:
            await self._identify(connection, data or {})
        elif op == OP_RESUME:
            await self._resume(connection, data or {})
        elif op in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE, OP_REQUEST_GUILD_MEMBERS):
            if connection.session is None:
                await connection.ws.close(code=4003, message=b"Not authenticated.")
        else:
            await connection.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, connection: Connection, data: dict[str, Any]) -> None:
        if connection.session is not None:
            await connection.ws.close(code=4005, message=b"Already authenticated.")
            return
        if data.get("token") != self.token:
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0:
            await connection.ws.close(code=4013, message=b"Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            await connection.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        self.identifies += 1
        session = GatewaySession(uuid.uuid4().hex, intents, data)
        self.sessions[session.id] = session
        connection.session = session
        async with session.lock:
            session.connection = connection
        await self._dispatch_to(
            session,
            "READY",
            {
                "v": 10,
                "user": self.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
                "session_id": session.id,
                "resume_gateway_url": self.resume_gateway_url,
                "application": {"id": str(self.application_id), "flags": self.flags},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "user_settings": {},
                "_trace": ["fake-discord"],
            },
        )
        if intents & INTENT_GUILDS:
            for guild in self.guilds.values():
                await self._dispatch_to(session, "GUILD_CREATE", self._guild_create(guild))

    async def _resume(self, connection: Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        if (
            session is None
            or session.invalid
            or data.get("token") != self.token
            or not isinstance(seq, int)
            or seq > session.seq
        ):
            await connection.send({"op": OP_INVALID_SESSION, "d": False})
            return
        async with session.lock:
            previous, session.connection = session.connection, connection
            connection.session = session
            session.resumes += 1
            missed = [p for p in session.sent if p["s"] > seq]
            for payload in missed:
                await connection.send(payload)
            session.replayed.extend(missed)
        if previous is not None and previous is not connection:
            await previous.ws.close(code=4000)
        await self._dispatch_to(session, "RESUMED", {"_trace": ["fake-discord"]})

    async def _dispatch_to(self, session: GatewaySession, event: str, data: Any) -> None:
        async with session.lock:
            session.seq += 1
            payload: Dispatch = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
            session.sent.append(payload)
            if session.connection is not None:
                await session.connection.send(payload)
        self._touch()

    # --- payloads ----------------------------------------------------------------------------

    def _member_payload(self, guild: FakeGuild, user: FakeUser) -> Member:
        return {
            "user": user.payload(),
            "nick": None,
            "avatar": None,
            "roles": [str(r) for r in guild.members.get(user.id, [])],
            "joined_at": iso_time(guild.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }

    def _channel_payload(self, channel: FakeChannel) -> Channel:
        last = None if channel.last_message_id is None else str(channel.last_message_id)
        if channel.is_dm:
            assert channel.recipient_id is not None
            return {
                "id": str(channel.id),
                "type": CHANNEL_DM,
                "last_message_id": last,
                "recipients": [self.users[channel.recipient_id].payload()],
                "flags": 0,
            }
        return {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": channel.position,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": last,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def _guild_create(self, guild: FakeGuild) -> dict[str, Any]:
        # Without GUILD_PRESENCES, "members and presences returned in this event will only
        # contain your bot and users in voice channels".
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [role.payload() for role in guild.roles.values()],
            "emojis": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": guild.locale,
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "stickers": [],
            "premium_progress_bar_enabled": False,
            "joined_at": iso_time(guild.joined_at),
            "large": False,
            "unavailable": False,
            "member_count": len(guild.members),
            "voice_states": [],
            "members": [self._member_payload(guild, self.bot)],
            "channels": [self._channel_payload(c) for c in guild.channels.values()],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _message_payload(self, message: FakeMessage) -> Message:
        data: Message = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "author": self.users[message.author_id].payload(),
            "content": message.content,
            "timestamp": iso_time(message.created_at),
            "edited_timestamp": None if message.edited_at is None else iso_time(message.edited_at),
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": message.attachments,
            "embeds": [],
            "pinned": False,
            "type": message.type,
            "flags": message.flags,
            "components": message.components,
        }
        if message.nonce is not None:
            data["nonce"] = message.nonce
        if message.application_id is not None:
            data["application_id"] = str(message.application_id)
            data["webhook_id"] = str(message.application_id)
        if message.interaction_id is not None:
            interaction = self.interactions[message.interaction_id]
            data["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self.users[interaction.user_id].payload(),
                "authorizing_integration_owners": {},
            }
        return data

    async def _dispatch_message_create(self, message: FakeMessage) -> None:
        channel = self.channels[message.channel_id]
        author = self.users[message.author_id]
        data = self._message_payload(message)
        if channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            data["guild_id"] = str(guild.id)
            member = self._member_payload(guild, author)
            del member["user"]  # the author is the message's
            data["member"] = member
            intent = INTENT_GUILD_MESSAGES
        else:
            intent = INTENT_DIRECT_MESSAGES
        # Without MESSAGE_CONTENT, content is empty except in DMs, mentions of the bot and the
        # bot's own messages (developers/events/gateway#message-content-intent).
        for session in list(self.sessions.values()):
            if session.invalid or not session.intents & intent:
                continue
            visible = data.copy()
            readable = (
                session.intents & INTENT_MESSAGE_CONTENT
                or channel.is_dm
                or author.id == self.bot.id
                or f"<@{self.bot.id}>" in message.content
            )
            if not readable:
                visible.update({"content": "", "embeds": [], "attachments": [], "components": []})
            await self._dispatch_to(session, "MESSAGE_CREATE", visible)
