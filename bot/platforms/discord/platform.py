"""The Discord platform, on discord.py: slash commands, buttons and select menus, direct messages.

What it does
------------
- Connects with intents that need no privileged switch in the Developer Portal: ``guilds``
  (channels, roles), ``guild_messages`` and ``dm_messages`` (messages; their content only where
  Discord gives it without the Message Content intent: direct messages and mentions of the bot),
  ``guild_reactions`` and ``dm_reactions``. With ``message_content_intent = true`` it also asks for
  the privileged Message Content intent and reads prefix commands (``!sondage ...``).
- Turns interactions into neutral events: slash commands into :class:`~bot.core.CommandEvent`
  with ``name`` (``"poll vote"`` for a subcommand) and ``options``; message context menus
  ("Ajouter à la gazette") into the command they run (``app_commands.MESSAGE_MENUS``) with
  the target message's text, author, link and images as options
  (:func:`target_message_options`) and ``ref`` pointing at it; clicks on components whose
  ``custom_id`` starts with ``tis:`` into :class:`~bot.core.ChoiceEvent`; autocomplete into a
  call of the injected ``autocomplete`` callback; reactions into
  :class:`~bot.core.ReactionEvent` (the reacted message's author read from Discord when
  discord.py does not have them, so that their name is right).
- Renders :class:`~bot.core.Reply`: choices as buttons (``max_buttons`` of them at most, in rows
  of five) or as select menus beyond that; attachments as files; ``allowed_mentions`` with nothing
  allowed unless ``reply.mentions``, or exactly the members of ``reply.ping`` (``users=[...]``;
  never ``@everyone``/``@here``).
- Registers a given list of application-command payloads, only when they differ from what
  Discord already has (:meth:`DiscordPlatform.sync_commands`).

Persistent choices
------------------
A button's ``custom_id`` is ``"tis:" + action`` (at most 100 characters), a select option's value
is the action itself. Clicks are read from the raw interaction, not from discord.py views held in
memory, so a click on a message posted before a restart still reaches the handler.

Answering interactions
----------------------
Discord wants the first answer within 3 seconds. :meth:`DiscordPlatform.respond` answers with the
interaction response (``ephemeral`` flag when ``reply.ephemeral``); when the handler takes longer
than ``defer_after`` seconds, the adapter defers first (a "thinking" state for commands, a silent
acknowledgement for components) and the reply then fills the deferred message or comes as a
follow-up. Further replies to the same event are follow-ups. A click whose handler answers
nothing is acknowledged silently.

Idempotent delivery
-------------------
:meth:`DiscordPlatform.deliver` posts with ``nonce`` = a 24-character digest of the outbox token
and ``enforce_nonce``: Discord then answers a second post with the same nonce, within a few
minutes, with the first message instead of creating another, so a retry after a crash posts once.
Errors become :class:`DiscordDeliveryError`, a :class:`~bot.core.DeliveryError` whose portable
``code`` (:class:`~bot.core.DeliveryCode`) is completed by Discord's finer ``reason``:
``dm_closed`` (50007 "Cannot send messages to this user", permanent: the outbox posts a notice
instead), ``rate_limited`` (429 after discord.py's own retries, or when Discord asks to wait
longer than 30 s, with ``retry_after``), ``unreachable`` (transient: the network, or a 5xx with
reason ``server_error``), ``unknown_target`` (404, reason ``not_found``), ``rejected``
(permanent; reasons ``forbidden`` for a 403, ``interaction_expired`` for 10062, ``rejected``).
A member's direct messages are closed when they turned off "Direct Messages" in the server's
Privacy Settings (or blocked the bot): :attr:`DiscordPlatform.open_dm_help` tells them how to
open them again.

Pointing discord.py at another server
-------------------------------------
discord.py has no per-client server address. Its REST routes, interaction callbacks and webhook
follow-ups are all built from the class attribute ``discord.http.Route.BASE``; and a plain
``discord.Client`` opens its gateway at the class attribute
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (only ``AutoShardedClient`` reads
``GET /gateway/bot``), then resumes at the ``resume_gateway_url`` of READY, and goes back to
``DEFAULT_GATEWAY`` after a session is invalidated. So :meth:`DiscordPlatform.start`:

1. sets ``Route.BASE`` to ``settings.api_base_url`` before logging in;
2. takes the gateway from ``settings.gateway_url``, or else asks ``GET /gateway/bot`` (what
   Discord's documentation recommends: "fetch and cache a WSS URL"), and sets
   ``DEFAULT_GATEWAY`` to it;
3. puts both values back at :meth:`DiscordPlatform.stop`.

Both are process-wide: a second adapter running in the same process against a *different*
server is refused with a :class:`~bot.core.ConfigError`. With the defaults
(``https://discord.com/api/v10`` and the URL Discord gives) nothing changes in discord.py's
behaviour. The same settings point the bot at any Discord-compatible server, and the tests at
``tests/fakes/discord.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.clock import Clock, SystemClock
from bot.core import (
    Actor,
    Attachment,
    ChoiceEvent,
    ChoiceStyle,
    CommandEvent,
    ConfigError,
    DeliveryCode,
    DeliveryError,
    DirectTarget,
    Event,
    MessageEvent,
    MessageRef,
    Place,
    PlaceTarget,
    ReactionEvent,
    Reply,
    Role,
    Target,
    TisserandError,
)
from bot.i18n import N_, fold
from bot.platforms.base import EventHandler
from bot.platforms.discord.app_commands import MESSAGE, menu_command

log = logging.getLogger(__name__)

PLATFORM = "discord"
DISCORD_API = "https://discord.com/api/v10"
CUSTOM_ID_PREFIX = "tis:"
"""Buttons: ``custom_id = CUSTOM_ID_PREFIX + action``."""
SELECT_PREFIX = "tis|"
"""Select menus: ``custom_id = SELECT_PREFIX + index``; the options' values are the actions."""
MAX_CUSTOM_ID = 100
MAX_CONTENT = 2000
MAX_BUTTON_LABEL = 80
MAX_SELECT_LABEL = 100
MAX_SELECT_OPTIONS = 25
MAX_ROWS = 5
MAX_AUTOCOMPLETE = 25
NONCE_LENGTH = 24
"""Discord nonces are at most 25 characters."""
INTERACTION_TOKEN_LIFETIME = 15 * 60.0
RATE_LIMIT_WAIT = 30.0
"""discord.py sleeps through shorter 429s itself; longer ones go back to the outbox."""

ERROR_DM_CLOSED = 50007
ERROR_UNKNOWN_INTERACTION = 10062

AutocompleteCallback = Callable[[str, str, str, Actor], Awaitable[list[tuple[str, str]]]]
"""``(command, option, partial text, actor) -> [(label, value), ...]`` (25 at most are shown)."""

_Interaction = discord.Interaction[discord.Client]


class DiscordSettings(BaseModel):
    """The ``[discord]`` section. The token is not here: it comes from TISSERAND_DISCORD_TOKEN."""

    model_config = ConfigDict(extra="forbid")

    application_id: int | None = None
    """The application (client) id; read from Discord when not given."""
    guild_ids: list[int] = []
    """Register the commands in these servers (immediate); empty: globally."""
    coordinator_roles: list[str] = ["Coordination"]
    """Role names (case- and accent-insensitive) or ids whose members are coordinators."""
    api_base_url: str = DISCORD_API
    gateway_url: str | None = None
    """None: the URL ``GET /gateway/bot`` gives."""
    message_content_intent: bool = False
    """Ask for the privileged Message Content intent; needed only for prefix commands."""
    command_prefix: str = "!"
    max_buttons: int = Field(default=5, ge=0, le=25)
    """Up to this many choices are buttons (rows of five); more become a select menu."""

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        url = yarl.URL(value)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(N_("must be an http(s) URL such as https://discord.com/api/v10"))
        return value.rstrip("/")

    @field_validator("gateway_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = yarl.URL(value)
        if url.scheme not in ("ws", "wss") or not url.host:
            raise ValueError(N_("must be a ws(s) URL such as wss://gateway.discord.gg"))
        return value

    @field_validator("command_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(N_("must not be empty"))
        return value


class DiscordDeliveryError(DeliveryError):
    """A :class:`DeliveryError` with its portable ``code`` and Discord's finer ``reason`` (see
    the module docstring), Discord's JSON error code and the HTTP status when there was one."""

    def __init__(
        self,
        code: DeliveryCode | None,
        message: str,
        *,
        reason: str | None = None,
        retry_after: float | None = None,
        permanent: bool = False,
        discord_code: int | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after, permanent=permanent, code=code)
        self.reason = reason or (code.value if code is not None else "unexpected")
        self.discord_code = discord_code
        self.status = status


# --- discord.py's process-wide endpoints -----------------------------------------------------------


class _Endpoints:
    """Sets, shares and restores ``Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``."""

    def __init__(self) -> None:
        self._holders: set[int] = set()
        self._api: str | None = None
        self._saved: tuple[str, yarl.URL] | None = None

    def acquire(self, holder: object, api: str) -> None:
        if self._holders and self._api != api:
            raise ConfigError(
                [
                    (
                        "discord.api_base_url",
                        N_("Another Discord connection in this process uses {url}.").format(
                            url=self._api
                        ),
                    )
                ]
            )
        if not self._holders:
            self._saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
            self._api = api
            Route.BASE = api
        self._holders.add(id(holder))

    def set_gateway(self, url: str) -> None:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

    def release(self, holder: object) -> None:
        if id(holder) not in self._holders:
            return
        self._holders.discard(id(holder))
        if not self._holders and self._saved is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None
            self._api = None


_ENDPOINTS = _Endpoints()


# --- the discord.py client ---------------------------------------------------------------------


class _Client(discord.Client):
    def __init__(self, platform: DiscordPlatform, reidentify_delay: float, **options: Any) -> None:
        super().__init__(**options)
        self._platform = platform
        self._reidentify_delay = reidentify_delay

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s before identifying again (one IDENTIFY per 5 s per bucket).
        if not initial:
            await asyncio.sleep(self._reidentify_delay)

    async def on_interaction(self, interaction: _Interaction) -> None:
        await self._platform._on_interaction(interaction)

    async def on_message(self, message: discord.Message) -> None:
        await self._platform._on_message(message)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._platform._on_reaction(payload, added=True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._platform._on_reaction(payload, added=False)


@dataclass(slots=True, eq=False)
class _Pending:
    """An interaction whose event is being handled: how to answer it."""

    event: Event
    interaction: _Interaction
    expires: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    timer: asyncio.Task[None] | None = None
    deferred_ephemeral: bool | None = None
    """Set when a "thinking" defer (type 5) was sent: whether it is ephemeral."""
    loading: bool = False
    """The deferred "thinking" message still waits for its content."""

    @property
    def is_component(self) -> bool:
        return self.interaction.type is discord.InteractionType.component


@dataclass(slots=True)
class _Sent:
    """A message posted through an interaction token: edited through the token while valid."""

    interaction: _Interaction
    original: bool
    expires: float


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
        commands: Sequence[Mapping[str, Any]] | None = None,
        autocomplete: AutocompleteCallback | None = None,
        clock: Clock | None = None,
        defer_after: float = 2.0,
        defer_ephemeral: Callable[[Event], bool] | None = None,
        guild_ready_timeout: float = 2.0,
        reidentify_delay: float = 5.0,
        connect_timeout: float = 60.0,
    ) -> None:
        """``commands``: application-command payloads registered at start when they changed.
        ``defer_after``: seconds before a slow interaction is deferred (Discord allows 3).
        ``defer_ephemeral``: whether a deferred answer to this event will be private.
        ``guild_ready_timeout``: discord.py waits this long after the last GUILD_CREATE.
        ``reidentify_delay``: the pause before a new IDENTIFY after a session was lost."""
        self.settings = settings
        self._token = token
        self._commands = None if commands is None else [dict(c) for c in commands]
        self._autocomplete = autocomplete
        self._clock: Clock = clock or SystemClock()
        self._defer_after = defer_after
        self._defer_ephemeral = defer_ephemeral
        self._guild_ready_timeout = guild_ready_timeout
        self._reidentify_delay = reidentify_delay
        self._connect_timeout = connect_timeout
        self._handler: EventHandler | None = None
        self._client: _Client | None = None
        self._connection: asyncio.Task[None] | None = None
        self._pending: dict[int, _Pending] = {}
        self._sent: dict[int, _Sent] = {}
        self._busy: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._coordinator_roles = {fold(r) for r in settings.coordinator_roles}

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def client(self) -> discord.Client:
        if self._client is None:
            raise DiscordDeliveryError(
                DeliveryCode.UNREACHABLE, "the Discord platform is not started"
            )
        return self._client

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
        if self._client is not None:
            return
        self._handler = handler
        _ENDPOINTS.acquire(self, self.settings.api_base_url)
        client = _Client(
            self,
            self._reidentify_delay,
            intents=self.intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=RATE_LIMIT_WAIT,
            guild_ready_timeout=self._guild_ready_timeout,
            chunk_guilds_at_startup=False,
            max_messages=None,
            application_id=self.settings.application_id,
        )
        self._client = client
        try:
            await self._connect(client)
            if self._commands is not None:
                await self.sync_commands(self._commands)
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
        _ENDPOINTS.set_gateway(gateway)
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
        if self._client is None or self._closing or task.cancelled():
            return
        error = task.exception()
        log.error("the Discord gateway connection ended for good: %r", error)

    async def stop(self) -> None:
        client = self._client
        if client is None or self._closing:
            return
        self._closing = True  # new events are ignored; those in hand may still answer
        busy = [t for t in self._busy if t is not asyncio.current_task()]
        if busy:
            _, late = await asyncio.wait(busy, timeout=5.0)
            for task in late:
                task.cancel()
        for pending in list(self._pending.values()):
            await _cancel(pending.timer)
        self._pending.clear()
        self._sent.clear()
        self._client = None
        self._closing = False
        try:
            await client.close()
            if self._connection is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await self._connection
            # discord.py leaves the task that waits for GUILD_CREATEs after a new READY running
            # past close() (until guild_ready_timeout): end it with the client.
            await _cancel(getattr(client._connection, "_ready_task", None))
        finally:
            self._connection = None
            _ENDPOINTS.release(self)

    # --- application commands ------------------------------------------------------------------

    async def sync_commands(self, commands: Sequence[Mapping[str, Any]]) -> bool:
        """Register ``commands`` (bulk overwrite) where they differ from what Discord has.

        Compares with ``GET .../commands?with_localizations=true``, ignoring what Discord adds
        (ids, versions, defaults); returns True when at least one ``PUT`` was sent.
        """
        client = self.client
        application_id = self.settings.application_id or client.application_id
        if application_id is None:
            raise DiscordDeliveryError(DeliveryCode.REJECTED, "no application id")
        desired = [dict(c) for c in commands]
        scopes: list[int | None] = list(self.settings.guild_ids) or [None]
        changed = False
        with _translate_errors():
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
                    await client.http.bulk_upsert_global_commands(application_id, desired)
                else:
                    await client.http.bulk_upsert_guild_commands(application_id, guild_id, desired)
                log.info("application commands registered (%s)", guild_id or "global")
                changed = True
        return changed

    # --- incoming --------------------------------------------------------------------------------

    def _track(self) -> asyncio.Task[Any] | None:
        task = asyncio.current_task()
        if task is not None:
            self._busy.add(task)
            task.add_done_callback(self._busy.discard)
        return task

    async def _on_interaction(self, interaction: _Interaction) -> None:
        if self._handler is None or self._client is None or self._closing:
            return
        self._track()
        if interaction.type is discord.InteractionType.autocomplete:
            await self._answer_autocomplete(interaction)
            return
        if interaction.type is discord.InteractionType.application_command:
            event: Event | None = self._command_event(interaction)
        elif interaction.type is discord.InteractionType.component:
            event = self._choice_event(interaction)
        else:
            event = None
        if event is None:
            return
        self._prune()
        pending = _Pending(event, interaction, time.monotonic() + INTERACTION_TOKEN_LIFETIME)
        self._pending[id(event)] = pending
        pending.timer = asyncio.create_task(self._defer_later(pending))
        try:
            await self._handler(event)
        except Exception:
            log.exception("the handler failed on a Discord interaction")
        finally:
            await self._settle(pending)

    async def _defer_later(self, pending: _Pending) -> None:
        await asyncio.sleep(self._defer_after)
        async with pending.lock:
            if pending.interaction.response.is_done():
                return
            try:
                await self._defer(pending)
            except discord.HTTPException as exc:
                log.warning("could not defer a Discord interaction: %s", exc)

    async def _defer(self, pending: _Pending) -> None:
        interaction = pending.interaction
        if pending.is_component:
            await interaction.response.defer()
            return
        ephemeral = bool(self._defer_ephemeral and self._defer_ephemeral(pending.event))
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        pending.deferred_ephemeral = ephemeral
        pending.loading = True

    async def _settle(self, pending: _Pending) -> None:
        """After the handler: stop the timer and make sure Discord got an answer."""
        async with pending.lock:
            await _cancel(pending.timer)
            pending.timer = None
            interaction = pending.interaction
            try:
                if not interaction.response.is_done():
                    if pending.is_component:
                        await interaction.response.defer()
                    else:
                        log.info("no reply to a Discord command: acknowledging silently")
                        await interaction.response.defer(ephemeral=True, thinking=True)
                        await interaction.delete_original_response()
                elif pending.loading:
                    log.warning("a deferred Discord command got no reply")
                    await interaction.delete_original_response()
                    pending.loading = False
            except discord.HTTPException as exc:
                log.warning("could not acknowledge a Discord interaction: %s", exc)

    def _prune(self) -> None:
        now = time.monotonic()
        for key in [k for k, p in self._pending.items() if p.expires < now]:
            del self._pending[key]
        for key in [k for k, s in self._sent.items() if s.expires < now]:
            del self._sent[key]

    def _actor(self, user: discord.abc.User, locale: str | None = None) -> Actor:
        roles = {Role.MEMBER}
        if isinstance(user, discord.Member) and self._is_coordinator(user):
            roles.add(Role.COORDINATOR)
        return Actor(
            platform=PLATFORM,
            user_id=str(user.id),
            display_name=user.display_name,
            roles=frozenset(roles),
            locale=locale,
            is_bot=user.bot,
        )

    def _is_coordinator(self, member: discord.Member) -> bool:
        wanted = self._coordinator_roles
        return any(str(role.id) in wanted or fold(role.name) in wanted for role in member.roles)

    def _place(self, channel: Any, channel_id: int, *, direct: bool) -> Place:
        name = getattr(channel, "name", None)
        if not name and direct:
            recipient = getattr(channel, "recipient", None)
            name = getattr(recipient, "name", None)
        return Place(PLATFORM, str(channel_id), str(name or ""), is_direct=direct)

    def _interaction_context(self, interaction: _Interaction) -> tuple[Actor, Place]:
        locale = interaction.locale
        actor = self._actor(interaction.user, str(getattr(locale, "value", locale)))
        channel_id = interaction.channel_id or 0
        place = self._place(interaction.channel, channel_id, direct=interaction.guild_id is None)
        return actor, place

    def _command_event(self, interaction: _Interaction) -> CommandEvent:
        data: Mapping[str, Any] = interaction.data or {}
        actor, place = self._interaction_context(interaction)
        name, options = command_path(data)
        ref: MessageRef | None = None
        if data.get("type") == MESSAGE:
            name = menu_command(name) or name
        target_id = data.get("target_id")
        if target_id is not None:
            options["target_id"] = str(target_id)
            resolved = (data.get("resolved") or {}).get("messages") or {}
            target = resolved.get(str(target_id))
            if isinstance(target, Mapping):
                channel_id = str(target.get("channel_id") or place.channel_id)
                options.update(target_message_options(target, interaction.guild_id, channel_id))
                ref = MessageRef(PLATFORM, channel_id, str(target_id))
        return CommandEvent(
            actor=actor, place=place, at=self._clock.now(), name=name, options=options, ref=ref
        )

    def _choice_event(self, interaction: _Interaction) -> ChoiceEvent | None:
        data: Mapping[str, Any] = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        values = tuple(str(v) for v in data.get("values") or ())
        if custom_id.startswith(SELECT_PREFIX):
            if not values:
                return None
            action = values[0]
        elif custom_id.startswith(CUSTOM_ID_PREFIX):
            action = custom_id[len(CUSTOM_ID_PREFIX) :]
        else:
            return None
        actor, place = self._interaction_context(interaction)
        message = interaction.message
        ref = None if message is None else MessageRef(PLATFORM, place.channel_id, str(message.id))
        return ChoiceEvent(
            actor=actor, place=place, at=self._clock.now(), action=action, ref=ref, values=values
        )

    async def _answer_autocomplete(self, interaction: _Interaction) -> None:
        data: Mapping[str, Any] = interaction.data or {}
        name, _ = command_path(data)
        focused = _focused_option(data.get("options") or [])
        suggestions: list[tuple[str, str]] = []
        if focused is not None and self._autocomplete is not None:
            actor, _place = self._interaction_context(interaction)
            try:
                suggestions = await self._autocomplete(
                    name, str(focused.get("name")), str(focused.get("value", "")), actor
                )
            except Exception:
                log.exception("the autocomplete callback failed")
        kind = int(focused.get("type", 3)) if focused else 3
        choices: list[app_commands.Choice[Any]] = []
        for label, value in suggestions[:MAX_AUTOCOMPLETE]:
            typed: str | int | float = value[:100]
            with contextlib.suppress(ValueError):
                if kind == 4:
                    typed = int(value)
                elif kind == 10:
                    typed = float(value)
            choices.append(app_commands.Choice(name=_clip(label, 100), value=typed))
        try:
            await interaction.response.autocomplete(choices)
        except discord.HTTPException as exc:
            log.warning("could not answer a Discord autocomplete: %s", exc)

    async def _on_message(self, message: discord.Message) -> None:
        client = self._client
        if self._handler is None or client is None or client.user is None or self._closing:
            return
        if message.author.id == client.user.id or not message.content:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        self._track()
        direct = message.guild is None
        actor = self._actor(message.author)
        place = self._place(message.channel, message.channel.id, direct=direct)
        ref = MessageRef(PLATFORM, str(message.channel.id), str(message.id))
        prefix = self.settings.command_prefix
        text = message.content
        event: Event
        if self.settings.message_content_intent and text.startswith(prefix) and text[len(prefix) :]:
            event = CommandEvent(
                actor=actor, place=place, at=self._clock.now(), text=text[len(prefix) :], ref=ref
            )
        else:
            event = MessageEvent(actor=actor, place=place, text=text, ref=ref, at=self._clock.now())
        try:
            await self._handler(event)
        except Exception:
            log.exception("the handler failed on a Discord message")

    async def _on_reaction(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        client = self._client
        if self._handler is None or client is None or client.user is None or self._closing:
            return
        if payload.user_id == client.user.id:
            return
        self._track()
        user: discord.abc.User | None = payload.member or client.get_user(payload.user_id)
        if user is not None:
            actor = self._actor(user)
        else:
            actor = Actor(PLATFORM, str(payload.user_id), str(payload.user_id))
        channel = client.get_channel(payload.channel_id)
        place = self._place(channel, payload.channel_id, direct=payload.guild_id is None)
        author: Actor | None = None
        if payload.message_author_id is not None:
            author = await self._author(client, payload.message_author_id)
        event = ReactionEvent(
            actor=actor,
            place=place,
            at=self._clock.now(),
            ref=MessageRef(PLATFORM, str(payload.channel_id), str(payload.message_id)),
            emoji=str(payload.emoji),
            added=added,
            message_author=author,
        )
        try:
            await self._handler(event)
        except Exception:
            log.exception("the handler failed on a Discord reaction")

    async def _author(self, client: discord.Client, user_id: int) -> Actor:
        """The author of a reacted message. Without the members intent discord.py rarely has
        them in its cache: ask Discord, so that their name (which the app stores) is theirs
        and not their id."""
        known = client.get_user(user_id)
        if known is None:
            try:
                known = await client.fetch_user(user_id)
            except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
                log.warning("could not read the Discord user %s: %s", user_id, exc)
        if known is None:
            return Actor(PLATFORM, str(user_id), str(user_id))
        return self._actor(known)

    # --- outgoing --------------------------------------------------------------------------------

    async def respond(self, event: Event, reply: Reply) -> MessageRef | None:
        pending = self._pending.get(id(event))
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

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        self._prune()
        text = reply.text if len(reply.text) <= MAX_CONTENT else reply.text[: MAX_CONTENT - 1] + "…"
        kwargs: dict[str, Any] = {
            "content": text,
            "view": _view(reply.choices, self.settings.max_buttons),
            "allowed_mentions": _allowed_mentions(reply),
        }
        if reply.attachments:
            kwargs["attachments"] = _files(reply.attachments)
        sent = self._sent.get(_int(ref.message_id))
        with _translate_errors():
            if sent is not None and sent.original:
                await sent.interaction.edit_original_response(**kwargs)
            elif sent is not None:
                await sent.interaction.followup.edit_message(_int(ref.message_id), **kwargs)
            else:
                channel = self.client.get_partial_messageable(_int(ref.channel_id))
                await channel.get_partial_message(_int(ref.message_id)).edit(**kwargs)

    async def _post(self, reply: Reply, target: Target, *, token: str | None) -> MessageRef:
        parts = split_text(reply.text)
        view = _view(reply.choices, self.settings.max_buttons)
        if not parts[0] and view is None and not reply.attachments:
            raise DiscordDeliveryError(DeliveryCode.REJECTED, "empty message", permanent=True)
        mentions = _allowed_mentions(reply)
        with _translate_errors():
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
                    kwargs["files"] = _files(reply.attachments)
                message = await channel.send(**kwargs)
        assert message is not None
        return MessageRef(PLATFORM, str(message.channel.id), str(message.id))

    async def _messageable(self, target: Target) -> discord.abc.Messageable:
        client = self.client
        if isinstance(target, PlaceTarget):
            return client.get_partial_messageable(_int(target.channel_id))
        user_id = _int(target.user_id)
        user = client.get_user(user_id) or await client.fetch_user(user_id)
        return user.dm_channel or await user.create_dm()

    async def _respond_interaction(self, pending: _Pending, reply: Reply) -> MessageRef:
        parts = split_text(reply.text)
        view = _view(reply.choices, self.settings.max_buttons)
        mentions = _allowed_mentions(reply)
        interaction = pending.interaction
        refs: list[MessageRef] = []
        channel_id = str(interaction.channel_id)
        expires = time.monotonic() + INTERACTION_TOKEN_LIFETIME
        async with pending.lock:
            with _translate_errors():
                for index, part in enumerate(parts):
                    last = index == len(parts) - 1
                    kwargs: dict[str, Any] = {"allowed_mentions": mentions}
                    if part:
                        kwargs["content"] = part
                    if last and view is not None:
                        kwargs["view"] = view
                    if last and reply.attachments:
                        kwargs["files"] = _files(reply.attachments)
                    message_id, original = await self._answer(pending, reply.ephemeral, kwargs)
                    self._sent[message_id] = _Sent(interaction, original, expires)
                    refs.append(MessageRef(PLATFORM, channel_id, str(message_id)))
        return refs[-1]

    async def _answer(
        self, pending: _Pending, ephemeral: bool, kwargs: dict[str, Any]
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

    async def _update_clicked(self, pending: _Pending, reply: Reply) -> None:
        """Edit the clicked message: UPDATE_MESSAGE (type 7), or after a deferred update, the
        "original response" (which for a component is the message it belongs to, ephemeral
        or not)."""
        text = reply.text if len(reply.text) <= MAX_CONTENT else reply.text[: MAX_CONTENT - 1] + "…"
        kwargs: dict[str, Any] = {
            "content": text,
            "view": _view(reply.choices, self.settings.max_buttons),
            "allowed_mentions": _allowed_mentions(reply),
        }
        if reply.attachments:
            kwargs["attachments"] = _files(reply.attachments)
        interaction = pending.interaction
        with _translate_errors():
            if not interaction.response.is_done():
                await interaction.response.edit_message(**kwargs)
            else:
                await interaction.edit_original_response(**kwargs)
        if interaction.message is not None:
            expires = time.monotonic() + INTERACTION_TOKEN_LIFETIME
            self._sent.setdefault(interaction.message.id, _Sent(interaction, True, expires))


# --- helpers -------------------------------------------------------------------------------------


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


def command_path(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``("poll vote", {"id": 3})`` from an application-command interaction's data."""
    names = [str(data.get("name", ""))]
    options: list[Mapping[str, Any]] = list(data.get("options") or [])
    while options and options[0].get("type") in (1, 2):  # SUB_COMMAND, SUB_COMMAND_GROUP
        names.append(str(options[0].get("name")))
        options = list(options[0].get("options") or [])
    return " ".join(names), {str(o["name"]): o.get("value") for o in options}


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp")


def target_message_options(
    message: Mapping[str, Any], guild_id: int | None, channel_id: str
) -> dict[str, Any]:
    """What a message context menu tells a command about the message it was opened on (from
    ``data.resolved.messages``; Discord gives its content whatever the intents):

    ``message_text``, ``message_author_id`` and ``message_author_name``, ``message_channel_id``,
    ``message_link``, ``message_at`` (ISO 8601), ``message_images`` (the URLs of its image
    attachments) and ``image`` (the first of them, the option a command takes one image by).
    """
    author: Mapping[str, Any] = message.get("author") or {}
    member: Mapping[str, Any] = message.get("member") or {}
    message_id = str(message.get("id", ""))
    images = [
        str(a["url"])
        for a in message.get("attachments") or ()
        if isinstance(a, Mapping) and a.get("url") and _is_image(a)
    ]
    options: dict[str, Any] = {
        "message_text": str(message.get("content") or ""),
        "message_author_id": str(author.get("id", "")),
        "message_author_name": str(
            member.get("nick") or author.get("global_name") or author.get("username") or ""
        ),
        "message_channel_id": channel_id,
        "message_link": (
            f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"
        ),
        "message_images": images,
    }
    if message.get("timestamp"):
        options["message_at"] = str(message["timestamp"])
    if images:
        options["image"] = images[0]
    return options


def _is_image(attachment: Mapping[str, Any]) -> bool:
    media_type = str(attachment.get("content_type") or "")
    if media_type:
        return media_type.startswith("image/") and media_type != "image/svg+xml"
    return str(attachment.get("filename") or "").lower().endswith(IMAGE_EXTENSIONS)


def _focused_option(options: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for option in options:
        if option.get("focused"):
            return option
        inner = _focused_option(option.get("options") or [])
        if inner is not None:
            return inner
    return None


_COMMAND_KEYS = (
    "type",
    "name",
    "name_localizations",
    "description",
    "description_localizations",
    "options",
    "default_member_permissions",
    "nsfw",
)
_COMMAND_KEYS_IF_GIVEN = ("contexts", "integration_types", "dm_permission")
_OPTION_KEYS = (
    "type",
    "name",
    "name_localizations",
    "description",
    "description_localizations",
    "required",
    "choices",
    "options",
    "channel_types",
    "min_value",
    "max_value",
    "min_length",
    "max_length",
    "autocomplete",
)
_CHOICE_KEYS = ("name", "name_localizations", "value")


def _empty(value: Any) -> bool:
    # "": the description Discord gives message and user commands, which take none.
    return value is None or value is False or value == "" or value == [] or value == {}


def _normal(
    obj: Mapping[str, Any], keys: Sequence[str], extra: Sequence[str] = ()
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in (*keys, *extra):
        value = obj.get(key)
        if _empty(value):
            continue
        if key == "options":
            value = [_normal(o, _OPTION_KEYS) for o in value or ()]
        elif key == "choices":
            value = [_normal(c, _CHOICE_KEYS) for c in value or ()]
        elif key == "default_member_permissions":
            value = str(value)
        out[key] = value
    if out.get("type", 1) == 1 and keys is _COMMAND_KEYS:
        out.pop("type", None)
    return out


def same_commands(desired: Sequence[Mapping[str, Any]], existing: Any) -> bool:
    """Whether Discord's ``existing`` commands already match the ``desired`` payloads."""
    if not isinstance(existing, list) or len(existing) != len(desired):
        return False
    current = {(c.get("name"), c.get("type", 1)): c for c in existing if isinstance(c, Mapping)}
    for command in desired:
        known = current.get((command.get("name"), command.get("type", 1)))
        if known is None:
            return False
        extra = [k for k in _COMMAND_KEYS_IF_GIVEN if k in command]
        if _normal(command, _COMMAND_KEYS, extra) != _normal(known, _COMMAND_KEYS, extra):
            return False
    return True


_STYLES = {
    ChoiceStyle.PRIMARY: discord.ButtonStyle.primary,
    ChoiceStyle.SECONDARY: discord.ButtonStyle.secondary,
    ChoiceStyle.SUCCESS: discord.ButtonStyle.success,
    ChoiceStyle.DANGER: discord.ButtonStyle.danger,
}


def _view(choices: Sequence[Any], max_buttons: int) -> discord.ui.View | None:
    """Buttons (rows of five) up to ``max_buttons`` choices, select menus beyond."""
    if not choices:
        return None
    view = discord.ui.View(timeout=None)
    if len(choices) <= min(max_buttons, MAX_ROWS * 5):
        for index, choice in enumerate(choices):
            custom_id = CUSTOM_ID_PREFIX + choice.action
            if len(custom_id) > MAX_CUSTOM_ID:
                raise DiscordDeliveryError(
                    DeliveryCode.REJECTED,
                    f"choice action too long: {choice.action!r}",
                    permanent=True,
                )
            view.add_item(
                discord.ui.Button(
                    label=_clip(choice.label, MAX_BUTTON_LABEL),
                    custom_id=custom_id,
                    style=_STYLES[choice.style],
                    emoji=choice.emoji,
                    row=index // 5,
                )
            )
    else:
        if len(choices) > MAX_ROWS * MAX_SELECT_OPTIONS:
            raise DiscordDeliveryError(
                DeliveryCode.REJECTED, f"too many choices: {len(choices)}", permanent=True
            )
        for row in range(0, len(choices), MAX_SELECT_OPTIONS):
            chunk = choices[row : row + MAX_SELECT_OPTIONS]
            options = []
            for choice in chunk:
                if len(choice.action) > MAX_CUSTOM_ID:
                    raise DiscordDeliveryError(
                        DeliveryCode.REJECTED,
                        f"choice action too long: {choice.action!r}",
                        permanent=True,
                    )
                options.append(
                    discord.SelectOption(
                        label=_clip(choice.label, MAX_SELECT_LABEL),
                        value=choice.action,
                        emoji=choice.emoji,
                    )
                )
            view.add_item(
                discord.ui.Select(
                    custom_id=f"{SELECT_PREFIX}{row // MAX_SELECT_OPTIONS}",
                    options=options,
                    row=row // MAX_SELECT_OPTIONS,
                )
            )
    # Not kept in discord.py's view store: clicks are read from the raw interaction.
    view.stop()
    return view


def _files(attachments: Sequence[Attachment]) -> list[discord.File]:
    return [discord.File(io.BytesIO(a.data), filename=a.filename) for a in attachments]


def _allowed_mentions(reply: Reply) -> discord.AllowedMentions:
    if reply.ping:  # these members, and nobody else
        users = [discord.Object(id=_int(m.user_id)) for m in reply.ping]
        return discord.AllowedMentions(everyone=False, users=users, roles=False, replied_user=False)
    if reply.mentions:
        return discord.AllowedMentions(everyone=False, users=True, roles=True, replied_user=False)
    return discord.AllowedMentions.none()


def _same_place(target: Target, event: Event) -> bool:
    if isinstance(target, PlaceTarget):
        return target.channel_id == event.place.channel_id
    return event.place.is_direct and target.user_id == event.actor.user_id


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DiscordDeliveryError(
            DeliveryCode.UNKNOWN_TARGET,
            f"not a Discord id: {value!r}",
            reason="not_found",
            permanent=True,
        ) from None


async def _cancel(task: asyncio.Task[Any] | None) -> None:
    if task is None or task is asyncio.current_task():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def _retry_after(exc: discord.HTTPException) -> float | None:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    with contextlib.suppress(TypeError, ValueError):
        if header is not None:
            return float(header)
    return None


def delivery_error(exc: BaseException) -> DiscordDeliveryError:
    """The :class:`DiscordDeliveryError` for an exception raised by discord.py or aiohttp."""
    if isinstance(exc, DiscordDeliveryError):
        return exc
    if isinstance(exc, discord.RateLimited):
        return DiscordDeliveryError(
            DeliveryCode.RATE_LIMITED, str(exc), retry_after=exc.retry_after
        )
    if isinstance(exc, discord.HTTPException):
        status, code = exc.status, exc.code
        text = f"HTTP {status} (code {code}): {exc.text}"
        if status == 429:
            return DiscordDeliveryError(
                DeliveryCode.RATE_LIMITED,
                text,
                retry_after=_retry_after(exc),
                discord_code=code,
                status=status,
            )
        if code == ERROR_DM_CLOSED:
            return DiscordDeliveryError(
                DeliveryCode.DM_CLOSED,
                f"direct messages closed: {text}",
                permanent=True,
                discord_code=code,
                status=status,
            )
        if code == ERROR_UNKNOWN_INTERACTION:
            return DiscordDeliveryError(
                DeliveryCode.REJECTED,
                text,
                reason="interaction_expired",
                permanent=True,
                discord_code=code,
                status=status,
            )
        if status >= 500:
            return DiscordDeliveryError(
                DeliveryCode.UNREACHABLE,
                text,
                reason="server_error",
                retry_after=_retry_after(exc),
                discord_code=code,
                status=status,
            )
        portable, reason = {
            403: (DeliveryCode.REJECTED, "forbidden"),
            404: (DeliveryCode.UNKNOWN_TARGET, "not_found"),
        }.get(status, (DeliveryCode.REJECTED, "rejected"))
        return DiscordDeliveryError(
            portable, text, reason=reason, permanent=True, discord_code=code, status=status
        )
    if isinstance(exc, (aiohttp.ClientError, OSError, TimeoutError)):
        return DiscordDeliveryError(DeliveryCode.UNREACHABLE, repr(exc))
    if isinstance(exc, (discord.DiscordException, ValueError, TypeError)):
        return DiscordDeliveryError(DeliveryCode.REJECTED, repr(exc), permanent=True)
    return DiscordDeliveryError(None, repr(exc), reason="unexpected")


@contextlib.contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except DiscordDeliveryError:
        raise
    except (
        discord.DiscordException,
        aiohttp.ClientError,
        OSError,
        TimeoutError,
        ValueError,
    ) as exc:
        raise delivery_error(exc) from exc


# --- check-config --online -----------------------------------------------------------------------


GATEWAY_MESSAGE_CONTENT = 1 << 18
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19


class _Status(TisserandError):
    """Control flow of the online check: an HTTP status other than 200."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        if response.status != 200:
            raise _Status(response.status)
        return await response.json(content_type=None)


async def check_online(settings: DiscordSettings, token: str) -> None:
    """Ask Discord whether ``settings`` and ``token`` work; raise :class:`ConfigError` if not.

    Checks: the token is accepted; the application id matches; the gateway is advertised; the
    bot is in every ``guild_ids`` server; the Message Content intent is enabled when asked for.
    Uses its own HTTP session: nothing of discord.py's process-wide state is touched.
    """
    if not token.strip():
        raise ConfigError([("TISSERAND_DISCORD_TOKEN", N_("The Discord bot token is missing."))])
    base = settings.api_base_url
    problems: list[tuple[str, str]] = []
    headers = {
        "Authorization": f"Bot {token.strip()}",
        "User-Agent": "DiscordBot (https://tisserand.invalid, 1) Tisserand",
    }
    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
        try:
            await _get_json(session, base + "/users/@me")
            application = await _get_json(session, base + "/oauth2/applications/@me")
            if settings.gateway_url is None:
                gateway = await _get_json(session, base + "/gateway/bot")
                if not isinstance(gateway, dict) or not gateway.get("url"):
                    problems.append(
                        (
                            "discord.gateway_url",
                            N_("The Discord API at {url} gives no gateway address.").format(
                                url=base
                            ),
                        )
                    )
            guilds = await _get_json(session, base + "/users/@me/guilds")
        except _Status as exc:
            if exc.status == 401:
                raise ConfigError(
                    [("TISSERAND_DISCORD_TOKEN", N_("Discord rejected the bot token."))]
                ) from None
            raise ConfigError(
                [
                    (
                        "discord.api_base_url",
                        N_("The Discord API at {url} answered with HTTP status {status}.").format(
                            url=base, status=exc.status
                        ),
                    )
                ]
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError):
            raise ConfigError(
                [
                    (
                        "discord.api_base_url",
                        N_("Cannot reach the Discord API at {url}.").format(url=base),
                    )
                ]
            ) from None
    app_id = int(application.get("id", 0)) if isinstance(application, dict) else 0
    if settings.application_id is not None and app_id != settings.application_id:
        problems.append(
            (
                "discord.application_id",
                N_("The token belongs to application {actual}, not {expected}.").format(
                    actual=app_id, expected=settings.application_id
                ),
            )
        )
    member_of = (
        {int(g["id"]) for g in guilds if isinstance(g, dict)} if isinstance(guilds, list) else set()
    )
    for guild_id in settings.guild_ids:
        if guild_id not in member_of:
            problems.append(
                (
                    "discord.guild_ids",
                    N_("The bot is not a member of the server {guild_id}.").format(
                        guild_id=guild_id
                    ),
                )
            )
    flags = int(application.get("flags") or 0) if isinstance(application, dict) else 0
    content_flags = GATEWAY_MESSAGE_CONTENT | GATEWAY_MESSAGE_CONTENT_LIMITED
    if settings.message_content_intent and not flags & content_flags:
        problems.append(
            (
                "discord.message_content_intent",
                N_(
                    "Enable the Message Content intent of the application in the "
                    "Discord Developer Portal, or set message_content_intent to false."
                ),
            )
        )
    if problems:
        raise ConfigError(problems)
