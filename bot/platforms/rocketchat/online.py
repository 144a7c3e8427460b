"""``tisserand check-config --online`` for Rocket.Chat: log in and look the channels up."""

from __future__ import annotations

import functools

from rocketchat_API.rocketchat import RocketChat

from bot.config import Problem
from bot.core import ConfigError
from bot.i18n import N_
from bot.platforms.rocketchat.rest import RestClient, RestError
from bot.platforms.rocketchat.settings import RocketChatSettings, check_credentials


async def check_online(
    settings: RocketChatSettings, password: str | None, token: str | None
) -> None:
    """Log in with the configured credentials and check the channels; raises :class:`ConfigError`."""
    check_credentials(settings, password, token)
    rest = RestClient(settings.server_url, timeout=15.0)
    problems: list[tuple[str, str]] = []
    logged_in_with_password = False
    try:
        try:
            if password:
                me = await rest.login_password(settings.username, password)
                logged_in_with_password = True
            else:
                assert token is not None and settings.user_id is not None
                me = await rest.login_token(settings.user_id, token)
        except RestError as exc:
            if exc.status in (401, 403):
                key = "TISSERAND_ROCKETCHAT_PASSWORD" if password else "TISSERAND_ROCKETCHAT_TOKEN"
                raise ConfigError([(key, N_("refused by the Rocket.Chat server"))]) from None
            if exc.status is None:
                raise ConfigError(
                    [
                        (
                            "rocketchat.server_url",
                            Problem(N_("cannot reach the server: {reason}"), reason=exc),
                        )
                    ]
                ) from None
            raise ConfigError(
                [
                    (
                        "rocketchat.server_url",
                        Problem(N_("unexpected answer from the server: {reason}"), reason=exc),
                    )
                ]
            ) from None
        username = str(me.get("username", ""))
        if username and username != settings.username:
            problems.append(
                (
                    "rocketchat.username",
                    Problem(N_("the credentials belong to “{username}”"), username=username),
                )
            )
        for name in settings.channels:
            try:
                await rest.call(functools.partial(RocketChat.rooms_info, room_name=name))
            except RestError:
                problems.append(
                    ("rocketchat.channels", Problem(N_("unknown channel: {name}"), name=name))
                )
    finally:
        if logged_in_with_password:
            await rest.logout()
        rest.close()
    if problems:
        raise ConfigError(problems)
