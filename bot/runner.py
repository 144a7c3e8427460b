"""Running the bot: the console, or every configured platform with the scheduler."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ValidationError

from bot.app import App
from bot.clock import MovableClock, SystemClock
from bot.config import Problem, Settings, read_secret, validation_problems
from bot.core import ConfigError
from bot.i18n import N_
from bot.platforms.base import Platform
from bot.platforms.console import ConsolePlatform, run_lines
from bot.startup import StartError, check_database, check_directory
from bot.wiring import make_app

log = logging.getLogger(__name__)

LineSource = Callable[[Callable[[], str]], AsyncIterator[str]]


async def run_console(
    settings: Settings,
    *,
    clock: MovableClock,
    user: str,
    channel: str,
    out_dir: Path,
    lines: LineSource,
    out: TextIO | None = None,
    interactive: bool | None = None,
) -> None:
    app = make_app(settings, clock=clock)
    console = ConsolePlatform(
        out=out or sys.stdout,
        out_dir=out_dir,
        clock=clock,
        translator=app.translator(),
        coordinators=settings.roles.console.coordinators,
        user=user,
        channel=channel,
    )
    app.add_platform(console)
    console.on_tick = app.scheduler.run_due
    if interactive is None:
        interactive = sys.stdin.isatty()
    # Piped input runs without wall-clock wake-ups: scripts stay deterministic and move time
    # with :clock; a person at a terminal gets the real scheduler.
    await app.start(with_scheduler=interactive)
    try:
        await app.scheduler.run_due()  # what fell due while the bot was stopped
        await run_lines(console, lines(console.prompt))
        await app.scheduler.run_due()  # deliver what is pending before leaving
    finally:
        await app.stop()


def _section(model: type[BaseModel], raw: dict[str, Any], key: str) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, key)) from None


def platform_secrets(settings: Settings) -> dict[str, dict[str, str | None]]:
    """The secrets of each configured platform, from the environment; ConfigError if missing."""
    secrets: dict[str, dict[str, str | None]] = {}
    problems: list[tuple[str, str]] = []
    if settings.rocketchat is not None:
        password = read_secret("ROCKETCHAT_PASSWORD")
        token = read_secret("ROCKETCHAT_TOKEN")
        if not password and not token:
            problems.append(
                (
                    "TISSERAND_ROCKETCHAT_PASSWORD",
                    Problem(
                        N_(
                            "set the bot's password, or TISSERAND_ROCKETCHAT_TOKEN with "
                            "rocketchat.user_id"
                        )
                    ),
                )
            )
        secrets["rocketchat"] = {"password": password, "token": token}
    if settings.discord is not None:
        token = read_secret("DISCORD_TOKEN")
        if not token:
            problems.append(
                ("TISSERAND_DISCORD_TOKEN", Problem(N_("set the bot token of the application")))
            )
        secrets["discord"] = {"token": token}
    if problems:
        raise ConfigError(problems)
    return secrets


def platform_settings(settings: Settings) -> dict[str, Any]:
    """The validated section of each configured platform (ConfigError naming the keys)."""
    sections: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    if settings.rocketchat is not None:
        from bot.platforms.rocketchat import RocketChatSettings

        try:
            sections["rocketchat"] = _section(RocketChatSettings, settings.rocketchat, "rocketchat")
        except ConfigError as exc:
            problems.extend(exc.problems)
    if settings.discord is not None:
        from bot.platforms.discord import DiscordSettings

        try:
            sections["discord"] = _section(DiscordSettings, settings.discord, "discord")
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return sections


def build_platforms(settings: Settings, app: App) -> list[Platform]:
    """The platform objects for every configured section (credentials from the environment)."""
    problems: list[tuple[str, str]] = []
    sections: dict[str, Any] = {}
    secrets: dict[str, dict[str, str | None]] = {}
    for step in (platform_settings, platform_secrets):
        try:
            result = step(settings)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if step is platform_settings:
            sections = result
        else:
            secrets = result
    if problems:
        raise ConfigError(problems)
    platforms: list[Platform] = []
    if "rocketchat" in sections:
        from bot.platforms.rocketchat import PLATFORM, RocketChatPlatform
        from bot.storage.platform_state import CursorStore

        platforms.append(
            RocketChatPlatform(
                sections["rocketchat"],
                password=secrets["rocketchat"]["password"],
                token=secrets["rocketchat"]["token"],
                cursors=CursorStore(app.sessions, PLATFORM),
            )
        )
    if "discord" in sections:
        from bot.platforms.discord import DiscordPlatform
        from bot.platforms.discord_commands import application_commands

        token = secrets["discord"]["token"]
        assert token is not None
        platforms.append(
            DiscordPlatform(
                sections["discord"],
                token,
                commands=application_commands(app.registry, app.translators),
                autocomplete=app.autocomplete,
            )
        )
    return platforms


def check_settings(settings: Settings, *, online: bool = False) -> None:
    """Every problem of a loaded configuration, with its key: ConfigError, or StartError when
    only the environment is at fault (the database, the console's output directory)."""
    problems: list[tuple[str, str]] = []
    sections: dict[str, Any] = {}
    secrets: dict[str, dict[str, str | None]] = {}
    try:
        sections = platform_settings(settings)
    except ConfigError as exc:
        problems.extend(exc.problems)
    try:
        secrets = platform_secrets(settings)
    except ConfigError as exc:
        problems.extend(exc.problems)
    environment = check_database(settings)
    if not settings.configured_platforms() or "out_dir" in settings.console.model_fields_set:
        environment.extend(check_directory(settings.console.out_dir, "console.out_dir"))
    if online and not problems and not environment:
        problems.extend(asyncio.run(_check_online(sections, secrets)))
    if problems:
        raise ConfigError(problems + environment)
    if environment:
        raise StartError(environment)


async def _check_online(
    sections: dict[str, Any], secrets: dict[str, dict[str, str | None]]
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if "rocketchat" in sections:
        from bot.platforms import rocketchat

        try:
            await rocketchat.check_online(
                sections["rocketchat"],
                secrets["rocketchat"]["password"],
                secrets["rocketchat"]["token"],
            )
        except ConfigError as exc:
            problems.extend(exc.problems)
    if "discord" in sections:
        from bot.platforms import discord

        try:
            await discord.check_online(sections["discord"], secrets["discord"]["token"] or "")
        except ConfigError as exc:
            problems.extend(exc.problems)
    return problems


async def run_platforms(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Connect every configured platform and run until ``stop`` is set, SIGINT or SIGTERM."""
    app = make_app(settings, clock=SystemClock())
    for platform in build_platforms(settings, app):
        app.add_platform(platform)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread
            pass
    await app.start()
    try:
        await stop.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        await app.stop()
