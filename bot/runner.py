"""Running the bot: the console, or every configured platform with the scheduler."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TextIO

from bot.app import App
from bot.clock import MovableClock, SystemClock
from bot.config import Settings, read_secret
from bot.core import ConfigError
from bot.platforms.console import ConsolePlatform, run_lines
from bot.storage.engine import make_engine

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
    app = App(settings, clock=clock)
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


def build_platforms(settings: Settings) -> list[object]:
    """The platform objects for every configured section (credentials from the environment)."""
    platforms: list[object] = []
    problems: list[tuple[str, str]] = []
    if settings.rocketchat is not None:
        password = read_secret("ROCKETCHAT_PASSWORD")
        token = read_secret("ROCKETCHAT_TOKEN")
        if not password and not token:
            problems.append(
                (
                    "TISSERAND_ROCKETCHAT_PASSWORD",
                    "set the bot's password, or TISSERAND_ROCKETCHAT_TOKEN with rocketchat.user_id",
                )
            )
        else:
            platforms.append(_rocketchat(settings, password, token))
    if settings.discord is not None:
        token = read_secret("DISCORD_TOKEN")
        if not token:
            problems.append(("TISSERAND_DISCORD_TOKEN", "set the bot token of the application"))
        else:
            platforms.append(_discord(settings, token))
    if problems:
        raise ConfigError(problems)
    return platforms


def _rocketchat(settings: Settings, password: str | None, token: str | None) -> object:
    raise ConfigError(
        [("rocketchat", "the Rocket.Chat platform is not available in this version yet")]
    )


def _discord(settings: Settings, token: str) -> object:
    raise ConfigError([("discord", "the Discord platform is not available in this version yet")])


def check_settings(settings: Settings, *, online: bool = False) -> None:
    """Every problem of a loaded configuration, with its key (raises ConfigError)."""
    problems: list[tuple[str, str]] = []
    try:
        build_platforms(settings)
    except ConfigError as exc:
        problems.extend(exc.problems)
    try:
        engine = make_engine(settings.effective_database_url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:
        key = "database_url" if settings.database_url else "data_dir"
        problems.append((key, f"cannot open the database: {exc}"))
    if problems:
        raise ConfigError(problems)
    del online


async def run_platforms(settings: Settings) -> None:
    """Connect every configured platform and run until SIGINT or SIGTERM."""
    platforms = build_platforms(settings)
    app = App(settings, clock=SystemClock())
    for platform in platforms:
        app.add_platform(platform)  # type: ignore[arg-type]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await app.start()
    try:
        await stop.wait()
    finally:
        await app.stop()
