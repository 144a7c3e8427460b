"""``tisserand run``: every configured platform in one process, and ``check-config --online``.

The configuration enables ``[rocketchat]`` and ``[discord]`` pointed at the fakes; the secrets come
from the environment, as in production. ``run_platforms`` is the real entry point: it is stopped
the way a service manager stops it, with SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from discord.http import Route

from bot.config import Settings, load_settings
from bot.core import ConfigError
from bot.i18n import Translators
from bot.platforms.discord.app_commands import application_commands
from bot.platforms.discord.settings import DISCORD_API
from bot.registry import Registry
from bot.runner import check_settings, run_platforms
from bot.wiring import FAMILIES
from tests.conftest import Database
from tests.fakes.discord import FakeDiscord
from tests.fakes.rocketchat import FakeRocketChat
from tests.platforms.conftest import (
    CHANNEL,
    DISCORD_TOKEN,
    MEMBER_NAME,
    RC_BOT,
    RC_PASSWORD,
)

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

WAIT = 15.0
SECRETS = (
    "TISSERAND_ROCKETCHAT_PASSWORD",
    "TISSERAND_ROCKETCHAT_TOKEN",
    "TISSERAND_DISCORD_TOKEN",
)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The platforms' secrets in the environment, as a service would get them."""
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    monkeypatch.setenv("TISSERAND_ROCKETCHAT_PASSWORD", RC_PASSWORD)
    monkeypatch.setenv("TISSERAND_DISCORD_TOKEN", DISCORD_TOKEN)
    return monkeypatch


def _settings(
    database: Database, tmp_path: Path, rocketchat: FakeRocketChat, discord: FakeDiscord
) -> Settings:
    return load_settings(
        None,
        database_url=database.url,
        environ={},
        overrides={
            "data_dir": str(tmp_path / "data"),
            "rocketchat": {"server_url": rocketchat.url, "username": RC_BOT, "channels": [CHANNEL]},
            "discord": {"api_base_url": discord.base_url},
        },
    )


async def _until(condition: Callable[[], object], running: asyncio.Task[None]) -> None:
    """Wait until ``condition()`` holds; fail at once with its error if ``running`` ended."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not condition():
        if running.done():
            running.result()  # raises what stopped it
            pytest.fail("run_platforms returned before it was stopped")
        assert loop.time() < deadline, "the condition was never met"
        await asyncio.sleep(0.02)


def _localized(payload: list[dict[str, Any]]) -> list[str]:
    """Names of every command and option (at any depth) missing a French localization."""
    missing: list[str] = []

    def visit(item: dict[str, Any], path: str, described: bool = True) -> None:
        where = f"{path}/{item['name']}"
        if "fr" not in item.get("name_localizations", {}) or (
            described and "fr" not in item.get("description_localizations", {})
        ):
            missing.append(where)
        for option in item.get("options") or []:
            visit(option, where)

    for command in payload:
        # Message context menus ("Ajouter à la gazette") have a name and no description.
        visit(command, "", described=command.get("type", 1) == 1)
    return missing


@pytest.mark.asyncio
async def test_both_platforms_run_in_one_process_and_stop_on_sigterm(
    no_leftover_tasks: None,
    secrets: pytest.MonkeyPatch,
    rocketchat_server: FakeRocketChat,
    discord_server: FakeDiscord,
    database: Database,
    tmp_path: Path,
) -> None:
    settings = _settings(database, tmp_path, rocketchat_server, discord_server)
    commands_path = rf"/applications/{discord_server.application_id}/commands"
    running = asyncio.create_task(run_platforms(settings))
    try:
        # Rocket.Chat starts first, then Discord, whose last start-up step is the command sync.
        await _until(lambda: discord_server.requests_to("PUT", commands_path), running)
        assert rocketchat_server.live_connections == 1

        general = rocketchat_server.room(CHANNEL)
        rocketchat_server.say(MEMBER_NAME, general, "!aide")
        # /aide is answered to the asker only: by direct message on Rocket.Chat (issue 15).
        direct = rocketchat_server.direct_room(MEMBER_NAME, RC_BOT)
        (answer,) = await rocketchat_server.wait_for_posts(RC_BOT, 1, direct, within=WAIT)
        assert "Tisserand — les commandes à votre disposition" in answer["msg"]

        channel = next(c for c in discord_server.channels.values() if c.name == CHANNEL)
        member = next(u for u in discord_server.users.values() if u.username == MEMBER_NAME)
        interaction = await discord_server.slash_command(member, channel, "help", locale="fr")
        await discord_server.wait_for(lambda: interaction.acknowledged, WAIT)
        original = discord_server.messages[interaction.original_message_id or 0]
        assert "Tisserand — les commandes à votre disposition" in original.content

        # The command sync payload is the registry's, every command localized in French.
        (sync,) = discord_server.requests_to("PUT", commands_path)
        expected = application_commands(
            Registry.build_groups(f.handlers for f in FAMILIES),
            Translators(settings.network.tz, settings.network.locale),
        )
        assert sync.json == expected
        assert _localized(sync.json) == []
        by_name = {c["name"]: c for c in sync.json}
        assert {"help", "profile", "announce"} <= set(by_name)
        assert by_name["help"]["name_localizations"] == {"fr": "aide"}
        assert by_name["announce"]["default_member_permissions"] == "0"
        assert "default_member_permissions" not in by_name["help"]
    finally:
        if running.done():
            pass
        elif signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, signal.SIG_IGN, None):
            running.cancel()  # no handler yet (a failure at start-up): SIGTERM would kill pytest
        else:
            # run_platforms installed its handler before connecting: stop as a service manager.
            os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(asyncio.shield(running), WAIT)

    assert running.result() is None
    await rocketchat_server.wait_for(lambda: rocketchat_server.live_connections == 0, WAIT)
    assert rocketchat_server.requests["logout"] == 1
    session = discord_server.session()
    await discord_server.wait_for(lambda: session.connection is None, WAIT)
    assert Route.BASE == DISCORD_API  # the process-wide discord.py address is given back


@pytest.mark.asyncio
async def test_check_config_online_logs_in_and_names_the_bad_secret(
    no_leftover_tasks: None,
    secrets: pytest.MonkeyPatch,
    rocketchat_server: FakeRocketChat,
    discord_server: FakeDiscord,
    database: Database,
    tmp_path: Path,
) -> None:
    settings = _settings(database, tmp_path, rocketchat_server, discord_server)

    async def check(*, online: bool = True) -> list[str]:
        # check_settings runs its own event loop (asyncio.run), as the CLI calls it: in a thread,
        # while this loop serves the fakes.
        try:
            await asyncio.to_thread(check_settings, settings, online=online)
        except ConfigError as exc:
            return [key for key, _ in exc.problems]
        return []

    assert await check() == []
    assert rocketchat_server.requests["login"] == 1
    assert discord_server.requests_to("GET", "/users/@me")

    secrets.setenv("TISSERAND_ROCKETCHAT_PASSWORD", "not-the-password")
    assert await check() == ["TISSERAND_ROCKETCHAT_PASSWORD"]

    secrets.setenv("TISSERAND_ROCKETCHAT_PASSWORD", RC_PASSWORD)
    secrets.setenv("TISSERAND_DISCORD_TOKEN", "not-the-token")
    assert await check() == ["TISSERAND_DISCORD_TOKEN"]

    secrets.delenv("TISSERAND_DISCORD_TOKEN")
    assert await check(online=False) == ["TISSERAND_DISCORD_TOKEN"]
