"""The state of the fake Discord: its world (users, guilds, channels, direct messages), what
tests observe, and the faults they inject."""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
from collections.abc import Callable, Iterable

from aiohttp import web

from bot.platforms.discord.types import (
    ApplicationCommand,
)
from tests.fakes.discord.model import (
    Connection,
    DiscordHTTPError,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
    Fault,
    GatewaySession,
    RateLimitError,
    RecordedRequest,
    Snowflakes,
    bucket_hash,
)
from tests.fakes.discord.protocol import (
    API_PREFIX,
    CHANNEL_DM,
)


class ServerState:
    """Everything the server holds; building the world, observing it, injecting faults."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        heartbeat_interval_ms: int = 41_250,
        response_deadline: float = 3.0,
        nonce_window: float = 300.0,
        route_limit: int = 50,
        privileged_intents: int = 0,
    ) -> None:
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.response_deadline = response_deadline
        self.nonce_window = nonce_window
        self.route_limit = route_limit
        self.privileged_intents = privileged_intents
        """Privileged intents enabled for the application in the "Developer Portal"."""
        self.flags = 0
        """Application flags (``GATEWAY_MESSAGE_CONTENT_LIMITED`` is 1 << 19...)."""

        self._ids = Snowflakes()
        self.application_id = self._ids.next()
        self.bot = FakeUser(self._ids.next(), "tisserand", bot=True)
        self.owner = FakeUser(self._ids.next(), "owner")
        self.users: dict[int, FakeUser] = {self.bot.id: self.bot, self.owner.id: self.owner}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.commands: dict[int | None, list[ApplicationCommand]] = {}
        """Application commands: guild id (None: global) -> command objects."""
        self.requests: list[RecordedRequest] = []
        self.sessions: dict[str, GatewaySession] = {}
        self.connection_paths: list[str] = []
        self.identifies = 0

        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._dm_channels: dict[int, int] = {}
        self._faults: list[Fault] = []
        self._buckets: dict[str, tuple[float, int]] = {}
        self._changed = asyncio.Event()
        self._gate = asyncio.Event()
        self._gate.set()
        self._connections: set[Connection] = set()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # --- addresses ---------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """What the adapter's ``api_base_url`` should be."""
        return self.root_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """What GET /gateway/bot answers."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway-resume"

    # --- building the world ----------------------------------------------------------------

    def add_user(
        self, username: str, *, global_name: str | None = None, bot: bool = False
    ) -> FakeUser:
        user = FakeUser(self._ids.next(), username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, *, locale: str = "fr") -> FakeGuild:
        guild = FakeGuild(self._ids.next(), name, owner_id=self.owner.id, locale=locale)
        guild.roles[guild.id] = FakeRole(guild.id, "@everyone", permissions=0x4_0000_0000_0000)
        guild.members[self.bot.id] = []
        guild.members[self.owner.id] = []
        self.guilds[guild.id] = guild
        return guild

    def add_role(self, guild: FakeGuild, name: str) -> FakeRole:
        role = FakeRole(self._ids.next(), name, position=len(guild.roles))
        guild.roles[role.id] = role
        return role

    def add_channel(self, guild: FakeGuild, name: str) -> FakeChannel:
        channel = FakeChannel(
            self._ids.next(), name, guild_id=guild.id, position=len(guild.channels)
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_member(self, guild: FakeGuild, user: FakeUser, roles: Iterable[FakeRole] = ()) -> None:
        guild.members[user.id] = [role.id for role in roles]

    def open_dm(self, user: FakeUser) -> FakeChannel:
        """The direct-message channel between ``user`` and the bot (created if needed)."""
        channel_id = self._dm_channels.get(user.id)
        if channel_id is None:
            channel = FakeChannel(self._ids.next(), "", type=CHANNEL_DM, recipient_id=user.id)
            self.channels[channel.id] = channel
            self._dm_channels[user.id] = channel.id
            channel_id = channel.id
        return self.channels[channel_id]

    def close_dms(self, user: FakeUser) -> None:
        """The user refuses direct messages from server members."""
        user.dms_closed = True

    # --- observing -------------------------------------------------------------------------

    def _touch(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until ``predicate()`` is true; it is checked after every change of the fake."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("the fake Discord never reached the expected state")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def requests_to(self, method: str, pattern: str) -> list[RecordedRequest]:
        regex = re.compile(pattern)
        return [r for r in self.requests if r.method == method and regex.fullmatch(r.path)]

    def channel_messages(self, channel: FakeChannel | int) -> list[FakeMessage]:
        channel_id = channel if isinstance(channel, int) else channel.id
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and not m.deleted and not m.ephemeral
        ]

    def dm_channel_of(self, user: FakeUser) -> FakeChannel | None:
        channel_id = self._dm_channels.get(user.id)
        return None if channel_id is None else self.channels[channel_id]

    def session(self) -> GatewaySession:
        """The newest gateway session."""
        return list(self.sessions.values())[-1]

    # --- faults ----------------------------------------------------------------------------

    def rate_limit_next(
        self,
        method: str,
        path: str,
        *,
        retry_after: float = 0.05,
        global_: bool = False,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching requests with a 429 (``path`` is a regex)."""

        def answer() -> DiscordHTTPError:
            return self._rate_limited(retry_after, global_=global_, bucket=path)

        self._faults.append(Fault(method, re.compile(path), times, answer))

    def fail_next(
        self, method: str, path: str, status: int, code: int, message: str, *, times: int = 1
    ) -> None:
        """Answer the next ``times`` matching requests with an error body."""
        self._faults.append(
            Fault(method, re.compile(path), times, lambda: DiscordHTTPError(status, code, message))
        )

    def _rate_limited(self, retry_after: float, *, global_: bool, bucket: str) -> DiscordHTTPError:
        headers = {
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Scope": "global" if global_ else "user",
            "Via": "1.1 google",
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update(
                {
                    "X-RateLimit-Limit": str(self.route_limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Bucket": bucket_hash(bucket),
                }
            )
        return RateLimitError(retry_after, global_, headers)
