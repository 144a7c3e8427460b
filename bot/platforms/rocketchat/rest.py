"""Rocket.Chat's REST API: the transport, rate limits and the server's clock.

REST goes through ``rocketchat_API`` (``requests`` underneath) run in worker threads with
:func:`asyncio.to_thread`, so the event loop never blocks. Login with the password
(``POST /api/v1/login``) or with a personal access token and its user id; the REST token is also
the realtime API's resume token.

Rate limits
    Outbound writes are paced (``messages_per_second``). A 429 waits until ``X-RateLimit-Reset``
    (epoch milliseconds) and retries, up to ``rate_limit_max_wait`` seconds per call; beyond
    that the call raises :class:`RateLimited` (the outbox retries later). A 401 logs in again
    once when the password is known. A bot user with the ``bot`` role bypasses the server's REST
    limiter (``api-bypass-rate-limit``), whose default is 10 calls per minute per endpoint.

Server time
    Timestamps are the server's: the transport reads the server's clock from the HTTP ``Date``
    header at login and corrects a skew of more than two seconds (also for
    ``X-RateLimit-Reset``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import threading
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, cast

import requests
from rocketchat_API.APIExceptions.RocketExceptions import (
    RocketApiException,
    RocketAuthenticationException,
    RocketBadStatusCodeException,
    RocketConnectionException,
)
from rocketchat_API.rocketchat import RocketChat

from bot.core import ConfigError, TisserandError
from bot.i18n import N_
from bot.platforms.rocketchat.settings import RocketChatSettings
from bot.platforms.rocketchat.state import Stats
from bot.platforms.rocketchat.types import (
    DirectRoomAnswer,
    HistoryAnswer,
    MessageAnswer,
    NewMessage,
    RoomAnswer,
    RoomsAnswer,
    UploadAnswer,
    User,
    UserAnswer,
)

log = logging.getLogger(__name__)

HISTORY_ENDPOINTS = {"c": "channels.history", "p": "groups.history", "d": "im.history"}
"""The history endpoint of each room type."""


class RocketChatError(TisserandError):
    """The adapter could not start (server unreachable, credentials refused)."""


class RestError(TisserandError):
    """A REST call failed. ``status`` is None for a network error."""

    def __init__(
        self,
        status: int | None,
        body: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        message: str,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = dict(body or {})
        self.headers = {k.lower(): v for k, v in headers.items()}

    @property
    def error_type(self) -> str | None:
        value = self.body.get("errorType")
        return value if isinstance(value, str) else None


class RateLimited(TisserandError):
    """Control flow: a 429 longer than the call may wait (``retry_after`` seconds)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.1f} s")
        self.retry_after = retry_after


# --- rocketchat_API in worker threads -------------------------------------------------------------

_local = threading.local()


def _record_response(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    _local.response = response


def _last_headers() -> dict[str, str]:
    response = getattr(_local, "response", None)
    return dict(response.headers) if response is not None else {}


def _invoke(fn: Callable[[], Any]) -> dict[str, Any]:
    """Run one ``rocketchat_API`` call (in a worker thread), mapping its errors to RestError."""
    _local.response = None
    try:
        result = fn()
    except (RocketApiException, RocketBadStatusCodeException) as exc:
        raise RestError(exc.status_code, exc.response_json, _last_headers(), str(exc)) from None
    except RocketAuthenticationException:
        raise RestError(401, None, _last_headers(), "authentication refused") from None
    except RocketConnectionException:
        raise RestError(None, None, {}, "unexpected answer to the login") from None
    except requests.RequestException as exc:
        raise RestError(None, None, {}, f"{type(exc).__name__}: {exc}") from None
    if not isinstance(result, dict):
        raise RestError(200, None, _last_headers(), "the server did not answer JSON")
    return result


def _invoke_dated(fn: Callable[[], Any]) -> tuple[dict[str, Any], float | None]:
    """Like :func:`_invoke`, plus the server's clock from the HTTP ``Date`` header."""
    result = _invoke(fn)
    response = getattr(_local, "response", None)
    header = response.headers.get("Date") if response is not None else None
    if not header:
        return result, None
    try:
        return result, parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return result, None


class RestClient:
    """One authenticated ``rocketchat_API`` client whose calls run in worker threads."""

    def __init__(self, server_url: str, timeout: float = 30.0) -> None:
        self.server_url = server_url
        self.timeout = timeout
        self.session = requests.Session()
        self.session.hooks["response"].append(_record_response)
        self.client = RocketChat(server_url=server_url, session=self.session, timeout=timeout)
        self.user_id = ""
        self.token = ""
        self.server_date: float | None = None
        """The server's clock (``Date`` header, one-second precision) at the last login."""

    async def call(self, fn: Callable[[RocketChat], Any]) -> dict[str, Any]:
        client = self.client
        return await asyncio.to_thread(_invoke, lambda: fn(client))

    async def login_password(self, username: str, password: str) -> User:
        client = RocketChat(server_url=self.server_url, session=self.session, timeout=self.timeout)
        data, self.server_date = await asyncio.to_thread(
            _invoke_dated, lambda: client.login(username, password)
        )
        payload = data.get("data") or {}
        self.client = client
        self.user_id = str(payload.get("userId", ""))
        self.token = str(payload.get("authToken", ""))
        me = payload.get("me")
        if not isinstance(me, dict):
            me = await self.call(lambda c: c.me())
        return cast(User, me)

    async def login_token(self, user_id: str, token: str) -> User:
        self.client = RocketChat(
            server_url=self.server_url,
            session=self.session,
            timeout=self.timeout,
            auth_token=token,
            user_id=user_id,
        )
        self.user_id = user_id
        self.token = token
        client = self.client
        me, self.server_date = await asyncio.to_thread(_invoke_dated, lambda: client.me())
        return cast(User, me)

    async def logout(self) -> None:
        with contextlib.suppress(RestError):
            await self.call(lambda c: c.logout())

    def close(self) -> None:
        self.session.close()


class Pacer:
    """At most ``rate`` writes per second, in order."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            if self._next > now:
                await asyncio.sleep(self._next - now)
                now = loop.time()
            self._next = max(now, self._next) + self.interval


# --- the transport -------------------------------------------------------------------------------


class Transport:
    """The bot's REST session: login, paced calls with 429s waited out, the server's clock, and
    the endpoints the adapter uses with their answers typed."""

    def __init__(
        self,
        settings: RocketChatSettings,
        *,
        password: str | None,
        token: str | None,
        wall_time: Callable[[], float],
        rate_limit_max_wait: float,
        request_timeout: float,
        stats: Stats,
    ) -> None:
        self.settings = settings
        self.password = password
        self._token = token
        self._wall = wall_time
        self.rate_limit_max_wait = rate_limit_max_wait
        self._stats = stats
        self._rest = RestClient(settings.server_url, timeout=request_timeout)
        self._pacer = Pacer(settings.messages_per_second)
        self._clock_offset = 0.0
        self.user_id = ""
        """The bot's user id (known once logged in)."""
        self.username = settings.username
        """The bot's username, as the server knows it once logged in."""

    @property
    def resume_token(self) -> str:
        """The REST token, which logs the realtime API in too."""
        return self._rest.token

    def server_now(self) -> float:
        """The server's time (seconds since the epoch): timestamps and rate-limit resets are its."""
        return self._wall() + self._clock_offset

    async def login(self) -> None:
        try:
            if self.password:
                me = await self._rest.login_password(self.settings.username, self.password)
            else:
                assert self._token is not None and self.settings.user_id is not None
                me = await self._rest.login_token(self.settings.user_id, self._token)
        except RestError as exc:
            if exc.status == 401:
                key = (
                    "TISSERAND_ROCKETCHAT_PASSWORD"
                    if self.password
                    else "TISSERAND_ROCKETCHAT_TOKEN"
                )
                raise ConfigError([(key, N_("refused by the Rocket.Chat server"))]) from None
            raise RocketChatError(f"cannot log in to {self.settings.server_url}: {exc}") from None
        if self._rest.server_date is not None:
            # The Date header is truncated to the second: only a real skew is worth correcting.
            offset = self._rest.server_date + 0.5 - self._wall()
            self._clock_offset = offset if abs(offset) > 2.0 else 0.0
            if self._clock_offset:
                log.warning("the Rocket.Chat server's clock is %+.0f s from ours", offset)
        self.user_id = self._rest.user_id or str(me.get("_id", ""))
        username = str(me.get("username") or self.settings.username)
        if username != self.settings.username:
            log.warning(
                "the Rocket.Chat credentials belong to %r, not %r", username, self.settings.username
            )
        self.username = username

    async def close(self) -> None:
        """Log out (a personal access token stays valid) and close the HTTP session."""
        if self.password:
            await self._rest.logout()
        self._rest.close()

    def _retry_after(self, exc: RestError) -> float:
        reset = exc.headers.get("x-ratelimit-reset")
        if reset is not None:
            try:
                return min(max(int(reset) / 1000.0 - self.server_now(), 0.01), 3600.0)
            except ValueError:
                pass
        match = re.search(r"wait (\d+) seconds", str(exc.body.get("error", "")))
        return float(match.group(1)) if match else 1.0

    async def request(
        self,
        fn: Callable[[RocketChat], Any],
        *,
        paced: bool = False,
        max_wait: float | None = None,
    ) -> dict[str, Any]:
        """One REST call; 429s are waited out (up to ``max_wait`` in total), a 401 re-logs in
        once when a password is known. Other failures raise :class:`RestError`."""
        budget = self.rate_limit_max_wait if max_wait is None else max_wait
        waited = 0.0
        relogged = False
        while True:
            if paced:
                await self._pacer.wait()
            try:
                return await self._rest.call(fn)
            except RestError as exc:
                if exc.status == 429:
                    delay = self._retry_after(exc)
                    if waited + delay > budget:
                        raise RateLimited(delay) from None
                    self._stats.rate_limited += 1
                    await asyncio.sleep(delay)
                    waited += delay
                    continue
                if exc.status == 401 and self.password and not relogged:
                    relogged = True
                    await self.login()
                    continue
                raise

    # --- the endpoints ---------------------------------------------------------------------------

    async def rooms_get(self) -> RoomsAnswer:
        return cast(RoomsAnswer, await self.request(lambda c: c.rooms_get()))

    async def room_by_name(self, name: str) -> RoomAnswer:
        data = await self.request(functools.partial(RocketChat.rooms_info, room_name=name))
        return cast(RoomAnswer, data)

    async def room_by_id(self, room_id: str) -> RoomAnswer:
        return cast(RoomAnswer, await self.request(lambda c: c.rooms_info(room_id=room_id)))

    async def join_channel(self, room_id: str) -> None:
        await self.request(
            functools.partial(RocketChat.channels_join, room_id=room_id, join_code=None)
        )

    async def history(
        self, room_type: str, room_id: str, *, oldest: str, count: int, offset: int
    ) -> HistoryAnswer:
        """One page of a room's history from ``oldest`` (inclusive), newest first."""
        data = await self.request(
            functools.partial(
                RocketChat.call_api_get,
                method=HISTORY_ENDPOINTS.get(room_type, "channels.history"),
                roomId=room_id,
                oldest=oldest,
                inclusive="true",
                count=count,
                offset=offset,
            )
        )
        return cast(HistoryAnswer, data)

    async def send_message(self, message: NewMessage) -> MessageAnswer:
        return cast(
            MessageAnswer, await self.request(lambda c: c.chat_send_message(message), paced=True)
        )

    async def get_message(self, msg_id: str) -> MessageAnswer:
        return cast(MessageAnswer, await self.request(lambda c: c.chat_get_message(msg_id)))

    async def update_message(self, room_id: str, msg_id: str, text: str) -> None:
        await self.request(lambda c: c.chat_update(room_id, msg_id, text), paced=True)

    async def react(self, msg_id: str, emoji: str) -> None:
        await self.request(
            functools.partial(RocketChat.chat_react, msg_id=msg_id, emoji=emoji, shouldReact=True),
            paced=True,
        )

    async def open_direct(self, username: str) -> DirectRoomAnswer:
        data = await self.request(lambda c: c.dm_create(username), paced=True)
        return cast(DirectRoomAnswer, data)

    async def user_by_id(self, user_id: str) -> UserAnswer:
        data = await self.request(lambda c: c.users_info(user_id=user_id), max_wait=2.0)
        return cast(UserAnswer, data)

    async def user_by_name(self, username: str | None) -> UserAnswer:
        data = await self.request(lambda c: c.users_info(username=username), max_wait=2.0)
        return cast(UserAnswer, data)

    async def upload(self, room_id: str, payload: tuple[str, bytes, str]) -> UploadAnswer:
        """``rooms.media``: the file waits for :meth:`confirm_upload` (404 on older servers)."""
        data = await self.request(
            functools.partial(RocketChat.rooms_media, room_id=room_id, file=payload), paced=True
        )
        return cast(UploadAnswer, data)

    async def confirm_upload(self, room_id: str, file_id: str) -> None:
        await self.request(
            functools.partial(RocketChat.rooms_media_confirm, room_id=room_id, file_id=file_id),
            paced=True,
        )

    async def upload_legacy(self, room_id: str, payload: tuple[str, bytes, str]) -> None:
        """``rooms.upload``: servers without ``rooms.media``."""
        await self.request(
            functools.partial(
                RocketChat.call_api_post,
                method="rooms.upload/" + room_id,
                files={"file": payload},
                use_json=False,
            ),
            paced=True,
        )
