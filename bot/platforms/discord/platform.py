"""The Discord platform, on discord.py: slash commands, buttons and select menus, direct messages.

Connects with intents that need no privileged switch in the Developer Portal: ``guilds``
(channels, roles), ``guild_messages`` and ``dm_messages`` (messages; their content only where
Discord gives it without the Message Content intent: direct messages and mentions of the bot),
``guild_reactions`` and ``dm_reactions``. With ``message_content_intent = true`` it also asks for
the privileged Message Content intent and reads prefix commands (``!sondage ...``). Registers a
given list of application-command payloads (:mod:`.app_commands`), only when they differ from
what Discord already has (:meth:`DiscordPlatform.sync_commands`).

The parts: :mod:`.events` (what happens on Discord into events), :mod:`.delivery` (replies),
:mod:`.views` (choices as components), :mod:`.transport` (where discord.py connects, its errors),
:mod:`.state` (what the running adapter holds); the payloads are typed in :mod:`.types`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, cast

import aiohttp
import discord
from discord.http import Route

from bot.clock import Clock, SystemClock
from bot.core import ConfigError, DeliveryCode, Event, MessageRef, Reply, Target
from bot.i18n import N_
from bot.platforms.base import EventHandler
from bot.platforms.discord.app_commands import same_commands
from bot.platforms.discord.delivery import Delivery
from bot.platforms.discord.events import AutocompleteCallback, Events
from bot.platforms.discord.settings import PLATFORM, DiscordSettings
from bot.platforms.discord.state import Interaction, State, cancel
from bot.platforms.discord.transport import (
    ENDPOINTS,
    RATE_LIMIT_WAIT,
    DiscordDeliveryError,
    translate_errors,
)
from bot.platforms.discord.types import ApplicationCommand

log = logging.getLogger(__name__)


class _Client(discord.Client):
    def __init__(self, events: Events, reidentify_delay: float, **options: Any) -> None:
        super().__init__(**options)
        self._events = events
        self._reidentify_delay = reidentify_delay

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s before identifying again (one IDENTIFY per 5 s per bucket).
        if not initial:
            await asyncio.sleep(self._reidentify_delay)

    async def on_interaction(self, interaction: Interaction) -> None:
        await self._events.on_interaction(interaction)

    async def on_message(self, message: discord.Message) -> None:
        await self._events.on_message(message)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._events.on_reaction(payload, added=True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._events.on_reaction(payload, added=False)


class DiscordPlatform:
    """The :class:`~bot.platforms.base.Platform` for Discord."""

    name = PLATFORM
    open_dm_help = N_(
        "To receive them, open this server's menu (its name, at the top left), choose Privacy "
        "Settings and allow direct messages from server members."
    )
    """How a member opens their direct messages to the bot (a catalog message id): the outbox
    adds it to the notice posted when a direct message could not be delivered."""

    def __init__(
        self,
        settings: DiscordSettings,
        token: str,
        *,
        commands: Sequence[ApplicationCommand] | None = None,
        autocomplete: AutocompleteCallback | None = None,
        clock: Clock | None = None,
        defer_after: float = 2.0,
        defer_ephemeral: Callable[[Event], bool] | None = None,
        guild_ready_timeout: float = 2.0,
        reidentify_delay: float = 5.0,
        connect_timeout: float = 60.0,
        sync_retry_base: float = 5.0,
        sync_retry_cap: float = 600.0,
    ) -> None:
        """``commands``: application-command payloads registered at start when they changed.
        ``defer_after``: seconds before a slow interaction is deferred (Discord allows 3).
        ``defer_ephemeral``: whether a deferred answer to this event will be private.
        ``guild_ready_timeout``: discord.py waits this long after the last GUILD_CREATE.
        ``reidentify_delay``: the pause before a new IDENTIFY after a session was lost.
        ``sync_retry_base``, ``sync_retry_cap``: a failed command sync at start is retried after
        this pause, doubled each time up to the cap, while the bot runs."""
        self.settings = settings
        self._token = token
        self._commands = None if commands is None else [c.copy() for c in commands]
        self._clock: Clock = clock or SystemClock()
        self._guild_ready_timeout = guild_ready_timeout
        self._reidentify_delay = reidentify_delay
        self._connect_timeout = connect_timeout
        self._state = State()
        self._events = Events(
            settings,
            self._state,
            self._clock,
            autocomplete=autocomplete,
            defer_after=defer_after,
            defer_ephemeral=defer_ephemeral,
        )
        self._delivery = Delivery(settings, self._state)
        self._connection: asyncio.Task[None] | None = None
        self._sync_retry: asyncio.Task[None] | None = None
        self._sync_backoff = (sync_retry_base, sync_retry_cap)
        self.commands_synced: bool | None = None
        """None: no sync asked (or not yet); False: the last attempt failed (the commands
        registered before still work); True: Discord has this version's commands."""

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def client(self) -> discord.Client:
        return self._state.started_client()

    @property
    def connected(self) -> bool:
        """Started, and the gateway session is ready (the health check and the metrics)."""
        client = self._state.client
        return client is not None and client.is_ready() and not client.is_closed()

    def intents(self) -> discord.Intents:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_messages = True
        intents.dm_messages = True
        intents.guild_reactions = True
        intents.dm_reactions = True
        intents.message_content = self.settings.message_content_intent
        return intents

    async def start(self, handler: EventHandler) -> None:
        if self._state.client is not None:
            return
        self._state.handler = handler
        ENDPOINTS.acquire(self, self.settings.api_base_url)
        client = _Client(
            self._events,
            self._reidentify_delay,
            intents=self.intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=RATE_LIMIT_WAIT,
            guild_ready_timeout=self._guild_ready_timeout,
            chunk_guilds_at_startup=False,
            max_messages=None,
            application_id=self.settings.application_id,
        )
        self._state.client = client
        try:
            await self._connect(client)
            if self._commands is not None:
                await self._sync_at_start(self._commands)
        except BaseException:
            await self.stop()
            raise

    async def _connect(self, client: _Client) -> None:
        try:
            await client.login(self._token)
            gateway = self.settings.gateway_url
            if gateway is None:
                _, gateway, _limits = await client.http.get_bot_gateway()
        except discord.LoginFailure:
            raise ConfigError(
                [("TISSERAND_DISCORD_TOKEN", N_("Discord rejected the bot token."))]
            ) from None
        except (discord.HTTPException, discord.GatewayNotFound, aiohttp.ClientError, OSError):
            raise ConfigError(
                [
                    (
                        "discord.api_base_url",
                        N_("Cannot reach the Discord API at {url}.").format(
                            url=self.settings.api_base_url
                        ),
                    )
                ]
            ) from None
        ENDPOINTS.set_gateway(gateway)
        self._connection = asyncio.create_task(client.connect(reconnect=True))
        self._connection.add_done_callback(self._connection_ended)
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._connection},
            timeout=self._connect_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if ready in done:
            return
        ready.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ready
        if self._connection in done:
            error = self._connection.exception()
            if isinstance(error, discord.PrivilegedIntentsRequired):
                raise ConfigError(
                    [
                        (
                            "discord.message_content_intent",
                            N_(
                                "Enable the Message Content intent of the application in the "
                                "Discord Developer Portal, or set message_content_intent to false."
                            ),
                        )
                    ]
                ) from None
            raise DiscordDeliveryError(
                DeliveryCode.UNREACHABLE, f"gateway connection ended: {error!r}"
            )
        raise DiscordDeliveryError(
            DeliveryCode.UNREACHABLE, "no READY from the Discord gateway in time"
        )

    def _connection_ended(self, task: asyncio.Task[None]) -> None:
        if self._state.client is None or self._state.closing or task.cancelled():
            return
        error = task.exception()
        log.error("the Discord gateway connection ended for good: %r", error)

    async def stop(self) -> None:
        state = self._state
        client = state.client
        if client is None or state.closing:
            return
        state.closing = True  # new events are ignored; those in hand may still answer
        busy = [t for t in state.busy if t is not asyncio.current_task()]
        if busy:
            _, late = await asyncio.wait(busy, timeout=5.0)
            for task in late:
                task.cancel()
        for pending in list(state.pending.values()):
            await cancel(pending.timer)
        state.pending.clear()
        state.sent.clear()
        retry, self._sync_retry = self._sync_retry, None
        await cancel(retry)
        state.client = None
        state.closing = False
        try:
            await client.close()
            if self._connection is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await self._connection
            # discord.py leaves the task that waits for GUILD_CREATEs after a new READY running
            # past close() (until guild_ready_timeout): end it with the client.
            await cancel(getattr(client._connection, "_ready_task", None))
        finally:
            self._connection = None
            ENDPOINTS.release(self)

    # --- application commands ------------------------------------------------------------------

    async def _sync_at_start(self, commands: Sequence[ApplicationCommand]) -> None:
        """Sync once; on failure, say what to check and retry in the background with backoff
        (the commands Discord has from the last sync keep working meanwhile)."""
        try:
            await self.sync_commands(commands)
        except DiscordDeliveryError as exc:
            self.commands_synced = False
            _report_sync_failure(exc, self._sync_backoff[0], attempt=1)
            self._sync_retry = asyncio.create_task(self._retry_sync(commands))
        else:
            self.commands_synced = True

    async def _retry_sync(self, commands: Sequence[ApplicationCommand]) -> None:
        delay, cap = self._sync_backoff
        attempt = 1
        while True:
            await asyncio.sleep(delay)
            attempt += 1
            delay = min(delay * 2, cap)
            try:
                await self.sync_commands(commands)
            except DiscordDeliveryError as exc:
                _report_sync_failure(exc, delay, attempt=attempt)
                continue
            self.commands_synced = True
            log.warning("application commands synced at attempt %s", attempt)
            return

    async def sync_commands(self, commands: Sequence[ApplicationCommand]) -> bool:
        """Register ``commands`` (bulk overwrite) where they differ from what Discord has.

        Compares with ``GET .../commands?with_localizations=true``, ignoring what Discord adds
        (ids, versions, defaults); returns True when at least one ``PUT`` was sent.
        """
        client = self.client
        application_id = self.settings.application_id or client.application_id
        if application_id is None:
            raise DiscordDeliveryError(DeliveryCode.REJECTED, "no application id")
        desired = [c.copy() for c in commands]
        payload = cast(list[dict[str, Any]], desired)
        scopes: list[int | None] = list(self.settings.guild_ids) or [None]
        changed = False
        with translate_errors():
            for guild_id in scopes:
                if guild_id is None:
                    route = Route(
                        "GET",
                        "/applications/{application_id}/commands",
                        application_id=application_id,
                    )
                else:
                    route = Route(
                        "GET",
                        "/applications/{application_id}/guilds/{guild_id}/commands",
                        application_id=application_id,
                        guild_id=guild_id,
                    )
                existing = await client.http.request(route, params={"with_localizations": "true"})
                if same_commands(desired, existing):
                    continue
                if guild_id is None:
                    await client.http.bulk_upsert_global_commands(application_id, payload)
                else:
                    await client.http.bulk_upsert_guild_commands(application_id, guild_id, payload)
                log.info("application commands registered (%s)", guild_id or "global")
                changed = True
        return changed

    # --- outgoing --------------------------------------------------------------------------------

    async def respond(self, event: Event, reply: Reply) -> MessageRef | None:
        return await self._delivery.respond(event, reply)

    async def deliver(self, reply: Reply, target: Target, token: str) -> MessageRef:
        return await self._delivery.deliver(reply, target, token)

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        await self._delivery.edit(ref, reply)


def _report_sync_failure(exc: DiscordDeliveryError, retry_in: float, *, attempt: int) -> None:
    status = exc.status
    if status == 403 or exc.discord_code == 50001:
        check = (
            "that the bot was invited with the applications.commands scope (the OAuth2 URL of "
            "the Developer Portal) and that discord.application_id and discord.guild_ids are its own"
        )
    elif status in (404, 405):
        check = "discord.api_base_url and discord.application_id (this server lacks the route)"
    elif status == 401:
        check = "TISSERAND_DISCORD_TOKEN"
    else:
        check = "Discord's status page and the network; nothing to change in the configuration"
    log.warning(
        "the application-command sync failed (attempt %s: %s): the commands registered before "
        "keep working; check %s; retrying in %.0f s",
        attempt,
        exc,
        check,
        retry_in,
    )
