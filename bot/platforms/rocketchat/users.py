"""Who speaks: ``users.info`` (cached) and the roles that make a coordinator.

``users.info`` gives ``type`` and, when the bot holds ``view-full-other-user-info`` (admin by
default, grantable to the ``bot`` role), ``roles``; cached ``role_cache_seconds`` against the
injected clock. A user is a coordinator with one of ``coordinator_roles`` or when listed in
``coordinators`` (usernames).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.core import Actor, Role
from bot.platforms.rocketchat.rest import RateLimited, RestError, Transport
from bot.platforms.rocketchat.settings import PLATFORM, RocketChatSettings
from bot.platforms.rocketchat.state import Bounded
from bot.platforms.rocketchat.types import User, UserAnswer, UserRef

log = logging.getLogger(__name__)


@dataclass
class UserInfo:
    user_id: str
    username: str
    name: str
    roles: frozenset[str] | None
    is_bot: bool


class Users:
    """The users the bot met, their roles, and the :class:`~bot.core.Actor` each one is."""

    def __init__(self, settings: RocketChatSettings, transport: Transport, clock: Clock) -> None:
        self.settings = settings
        self._transport = transport
        self._clock = clock
        self._users = Bounded[tuple[datetime, UserInfo]](10_000)
        self._usernames: dict[str, str] = {}
        self._warned_roles = False

    async def info(
        self, *, user_id: str | None = None, username: str | None = None
    ) -> UserInfo | None:
        key = user_id or (self._usernames.get(username) if username else None)
        now = self._clock.now()
        if key is not None:
            cached = self._users.get(key)
            if cached is not None and cached[0] > now:
                return cached[1]
        try:
            data: UserAnswer
            if user_id:
                data = await self._transport.user_by_id(user_id)
            else:
                data = await self._transport.user_by_name(username)
        except (RestError, RateLimited) as exc:
            log.info("users.info failed (%s); roles unknown for now", exc)
            return None
        user: User | dict[str, str] = data.get("user") or {}
        roles_raw = user.get("roles")
        roles = frozenset(str(r) for r in roles_raw) if isinstance(roles_raw, list) else None
        if roles is None and self.settings.coordinator_roles and not self._warned_roles:
            self._warned_roles = True
            log.warning(
                "users.info shows no roles: give the bot the view-full-other-user-info permission "
                "or list coordinators by username"
            )
        info = UserInfo(
            user_id=str(user.get("_id", user_id or "")),
            username=str(user.get("username", username or "")),
            name=str(user.get("name") or user.get("username") or ""),
            roles=roles,
            is_bot=user.get("type") == "bot" or (roles is not None and "bot" in roles),
        )
        expires = now + timedelta(seconds=self.settings.role_cache_seconds)
        self._users.put(info.user_id, (expires, info))
        self._usernames[info.username] = info.user_id
        return info

    def actor_of(self, user: UserInfo) -> Actor:
        roles = {Role.MEMBER}
        if user.username in self.settings.coordinators or (
            user.roles is not None and user.roles.intersection(self.settings.coordinator_roles)
        ):
            roles.add(Role.COORDINATOR)
        return Actor(
            PLATFORM,
            user.user_id,
            user.name or user.username,
            roles=frozenset(roles),
            is_bot=user.is_bot,
        )

    async def actor(self, user_id: str, author: UserRef | dict[str, str]) -> Actor:
        """The actor of a message's author (named as the message names them when
        ``users.info`` cannot tell)."""
        user = await self.info(user_id=user_id)
        if user is None:
            user = UserInfo(
                user_id=user_id,
                username=str(author.get("username", "")),
                name=str(author.get("name") or author.get("username") or ""),
                roles=None,
                is_bot=False,
            )
        return self.actor_of(user)
