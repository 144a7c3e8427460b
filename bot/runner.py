"""Running the bot: the console, or every configured platform with the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ValidationError

from bot.app import App
from bot.clock import MovableClock, SystemClock
from bot.config import Problem, Settings, validation_problems
from bot.core import ConfigError
from bot.i18n import N_
from bot.lease import Holder, Lease, LeaseLost, lease_for
from bot.platforms.base import AnyPlatformKind, Platform, Secrets
from bot.platforms.console import ConsolePlatform, run_lines
from bot.startup import StartError, check_database, check_directory
from bot.wiring import PLATFORMS, make_app

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


_UNKNOWN_SECTION = N_(
    "unknown key: check its spelling and its section against config/tisserand.example.toml"
)


def configured_kinds(settings: Settings) -> list[AnyPlatformKind]:
    """The platforms the configuration enables, in the order of :data:`bot.wiring.PLATFORMS`;
    a ConfigError names a section that no platform of this build reads."""
    sections = settings.platform_sections()
    known = {kind.name for kind in PLATFORMS}
    unknown = [name for name in sections if name not in known]
    if unknown:
        raise ConfigError([(name, Problem(_UNKNOWN_SECTION)) for name in unknown])
    return [kind for kind in PLATFORMS if kind.name in sections]


def platform_settings(settings: Settings, kinds: list[AnyPlatformKind]) -> dict[str, Any]:
    """The validated section of each platform (ConfigError naming the keys)."""
    raw = settings.platform_sections()
    sections: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for kind in kinds:
        try:
            sections[kind.name] = _section(kind.settings, raw[kind.name], kind.name)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return sections


def platform_secrets(kinds: list[AnyPlatformKind]) -> dict[str, Secrets]:
    """The secrets of each platform, from the environment; ConfigError if missing."""
    secrets: dict[str, Secrets] = {}
    problems: list[tuple[str, str]] = []
    for kind in kinds:
        found, missing = kind.read_secrets()
        problems.extend(missing)
        secrets[kind.name] = found
    if problems:
        raise ConfigError(problems)
    return secrets


def build_platforms(settings: Settings, app: App) -> list[Platform]:
    """The platform objects for every configured section (credentials from the environment)."""
    kinds = configured_kinds(settings)
    problems: list[tuple[str, str]] = []
    sections: dict[str, Any] = {}
    secrets: dict[str, Secrets] = {}
    try:
        sections = platform_settings(settings, kinds)
    except ConfigError as exc:
        problems.extend(exc.problems)
    try:
        secrets = platform_secrets(kinds)
    except ConfigError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return [kind.build(sections[kind.name], secrets[kind.name], app) for kind in kinds]


def check_settings(settings: Settings, *, online: bool = False) -> None:
    """Every problem of a loaded configuration, with its key: ConfigError, or StartError when
    only the environment is at fault (the database, the console's output directory)."""
    problems: list[tuple[str, str]] = []
    kinds: list[AnyPlatformKind] = []
    sections: dict[str, Any] = {}
    secrets: dict[str, Secrets] = {}
    try:
        kinds = configured_kinds(settings)
    except ConfigError as exc:
        problems.extend(exc.problems)
    try:
        sections = platform_settings(settings, kinds)
    except ConfigError as exc:
        problems.extend(exc.problems)
    try:
        secrets = platform_secrets(kinds)
    except ConfigError as exc:
        problems.extend(exc.problems)
    if settings.email is not None:
        from bot.mail.online import missing_password

        problems.extend(missing_password(settings.email))
    environment = check_database(settings)
    if not settings.configured_platforms() or "out_dir" in settings.console.model_fields_set:
        environment.extend(check_directory(settings.console.out_dir, "console.out_dir"))
    if online and not problems and not environment:
        problems.extend(asyncio.run(_check_online(kinds, sections, secrets)))
        if settings.email is not None:
            from bot.mail.online import check_online

            problems.extend(asyncio.run(check_online(settings.email)))
    if problems:
        raise ConfigError(problems + environment)
    if environment:
        raise StartError(environment)


async def _check_online(
    kinds: list[AnyPlatformKind], sections: dict[str, Any], secrets: dict[str, Secrets]
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for kind in kinds:
        try:
            await kind.check_online(sections[kind.name], secrets[kind.name])
        except ConfigError as exc:
            problems.extend(exc.problems)
    return problems


async def run_platforms(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    on_standby: Callable[[Holder | None], None] | None = None,
    on_active: Callable[[], None] | None = None,
) -> None:
    """Connect every configured platform and run until ``stop`` is set, SIGINT or SIGTERM.

    The database's lease (:mod:`bot.lease`) is taken first: while another instance holds it,
    this one stands by (``on_standby`` is told who holds it, once, then ``on_active`` when it
    takes over). :class:`LeaseLost` when the lease is lost while active (the platforms are
    stopped first)."""
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
    lease = lease_for(settings.effective_database_url)
    web: Any = None
    try:
        if settings.web.enabled:
            web = await _start_web(settings, app, lease)
        if not await _take_lease(lease, stop, settings.lease.poll_seconds, on_standby, on_active):
            app.engine.dispose()
            return
        await app.start()
        watch = asyncio.create_task(_watch_lease(lease, stop, settings.lease.poll_seconds))
        try:
            await stop.wait()
        finally:
            lost = watch.done() and not watch.cancelled() and watch.result()
            watch.cancel()
            await app.stop()
        if lost:
            raise LeaseLost("the database lease was lost")
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        if web is not None:
            await web.stop()
        await asyncio.to_thread(lease.release)


async def _start_web(settings: Settings, app: App, lease: Lease) -> Any:
    """The ``[web]`` server, its metrics wired into the app (imported only when enabled)."""
    from bot.metrics import Metrics
    from bot.web import WebServer

    metrics = Metrics(app, lambda: lease.held)
    app.on_event = metrics.event
    app.scheduler.on_run = metrics.scheduled
    app.services["metrics"] = metrics
    web = WebServer(
        settings.web,
        app,
        app.scheduler,
        lease,
        metrics,
        translator=app.translators.get(),
        network=settings.network.name,
    )
    try:
        await web.start()
    except BaseException:
        app.engine.dispose()
        raise
    return web


async def _take_lease(
    lease: Lease,
    stop: asyncio.Event,
    poll: float,
    on_standby: Callable[[Holder | None], None] | None,
    on_active: Callable[[], None] | None,
) -> bool:
    """Wait for the lease; False when ``stop`` was set first."""
    waited = False
    while not stop.is_set():
        if await asyncio.to_thread(lease.try_acquire):
            if waited:
                log.warning("the database lease was taken over: this instance is now active")
                if on_active is not None:
                    on_active()
            return True
        if not waited:
            holder = await asyncio.to_thread(lease.holder)
            log.warning("another instance holds the database lease (%s): standing by", holder)
            if on_standby is not None:
                on_standby(holder)
            waited = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll)
    return False


async def _watch_lease(lease: Lease, stop: asyncio.Event, poll: float) -> bool:
    """True (and ``stop`` set) when the lease is lost."""
    while True:
        await asyncio.sleep(poll)
        if not await asyncio.to_thread(lease.check):
            log.error("the database lease was lost: stopping the platforms")
            stop.set()
            return True
