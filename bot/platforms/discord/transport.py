"""discord.py's HTTP side: where it connects, and its errors in portable terms.

Errors
    Errors become :class:`DiscordDeliveryError`, a :class:`~bot.core.DeliveryError` whose
    portable ``code`` (:class:`~bot.core.DeliveryCode`) is completed by Discord's finer
    ``reason``: ``dm_closed`` (50007 "Cannot send messages to this user", permanent: the outbox
    posts a notice instead), ``rate_limited`` (429 after discord.py's own retries, or when
    Discord asks to wait longer than 30 s, with ``retry_after``), ``unreachable`` (transient: the
    network, or a 5xx with reason ``server_error``), ``unknown_target`` (404, reason
    ``not_found``), ``rejected`` (permanent; reasons ``forbidden`` for a 403,
    ``interaction_expired`` for 10062, ``rejected``).

Pointing discord.py at another server
    discord.py has no per-client server address. Its REST routes, interaction callbacks and
    webhook follow-ups are all built from the class attribute ``discord.http.Route.BASE``; and a
    plain ``discord.Client`` opens its gateway at the class attribute
    ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (only ``AutoShardedClient`` reads
    ``GET /gateway/bot``), then resumes at the ``resume_gateway_url`` of READY, and goes back to
    ``DEFAULT_GATEWAY`` after a session is invalidated. So the platform's start:

    1. sets ``Route.BASE`` to ``settings.api_base_url`` before logging in;
    2. takes the gateway from ``settings.gateway_url``, or else asks ``GET /gateway/bot`` (what
       Discord's documentation recommends: "fetch and cache a WSS URL"), and sets
       ``DEFAULT_GATEWAY`` to it;
    3. puts both values back at stop.

    Both are process-wide: a second adapter running in the same process against a *different*
    server is refused with a :class:`~bot.core.ConfigError`. With the defaults
    (``https://discord.com/api/v10`` and the URL Discord gives) nothing changes in discord.py's
    behaviour. The same settings point the bot at any Discord-compatible server, and the tests at
    the fake in ``tests/fakes/discord/``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.core import ConfigError, DeliveryCode, DeliveryError
from bot.i18n import N_

RATE_LIMIT_WAIT = 30.0
"""discord.py sleeps through shorter 429s itself; longer ones go back to the outbox."""

ERROR_DM_CLOSED = 50007
ERROR_UNKNOWN_INTERACTION = 10062


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


class Endpoints:
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


ENDPOINTS = Endpoints()
"""The one set of endpoints of this process."""


# --- errors ------------------------------------------------------------------------------------


def to_int(value: str) -> int:
    """A Discord id from its neutral (string) form; a permanent delivery error if it is not one."""
    try:
        return int(value)
    except ValueError:
        raise DiscordDeliveryError(
            DeliveryCode.UNKNOWN_TARGET,
            f"not a Discord id: {value!r}",
            reason="not_found",
            permanent=True,
        ) from None


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
def translate_errors() -> Iterator[None]:
    """Raise what discord.py and aiohttp raise as :class:`DiscordDeliveryError`."""
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
