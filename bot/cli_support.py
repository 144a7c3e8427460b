"""What the ``tisserand`` commands share: the locale, the configuration, the refusals that end a
command with an exit status instead of a traceback, and the console's loop (see :mod:`bot.cli`)."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from bot.clock import MovableClock
from bot.config import Settings, explain, load_settings
from bot.core import ConfigError, DatabaseTooNewError
from bot.i18n import N_, Translator, normalize_locale

EXIT_CONFIG = 2
EXIT_DATABASE = 3
"""The database, the disk or a directory stops Tisserand (the configuration may be right)."""
EXIT_LEASE_LOST = 4
"""The active instance lost the database's lease and stopped its platforms (restart it)."""


def cli_locale(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        locale = normalize_locale(value.split(":")[0].split(".")[0])
        if locale:
            return locale
    return "fr"


def settings_of(ctx: click.Context) -> Settings:
    obj: dict[str, Any] = ctx.ensure_object(dict)
    t: Translator = obj["t"]
    try:
        return load_settings(obj.get("config"), database_url=obj.get("database"))
    except ConfigError as exc:
        fail_config(t, exc)


def fail_config(t: Translator, exc: ConfigError) -> NoReturn:
    click.echo(t.gettext("The configuration has problems:"), err=True)
    for key, problem in exc.problems:
        click.echo(f"  - {key}: {explain(t, problem)}", err=True)
    click.echo(t.gettext("Nothing was started. Fix the keys above and try again."), err=True)
    sys.exit(EXIT_CONFIG)


def fail_database(t: Translator, exc: DatabaseTooNewError) -> NoReturn:
    click.echo(
        t.gettext(
            "The database is at schema revision {revision}, written by a newer version of "
            "Tisserand. Upgrade Tisserand to use it; nothing was changed.",
            revision=exc.revision,
        ),
        err=True,
    )
    sys.exit(EXIT_DATABASE)


def fail_start(t: Translator, problems: list[tuple[str, str]]) -> NoReturn:
    click.echo(t.gettext("Tisserand cannot start:"), err=True)
    for key, problem in problems:
        click.echo(f"  - {key}: {explain(t, problem)}", err=True)
    click.echo(t.gettext("Nothing was started. Fix the keys above and try again."), err=True)
    sys.exit(EXIT_DATABASE)


@contextmanager
def environment(
    t: Translator, settings: Settings, directory: tuple[str, Path] | None = None
) -> Iterator[None]:
    """What the environment refuses (the database, the disk, a directory) ends with the key at
    fault and exit status 3 instead of a traceback (shown in the log with --verbose)."""
    from sqlalchemy.exc import DBAPIError

    from bot.core import ForeignDatabaseError
    from bot.startup import StartError, start_error

    try:
        yield
    except (OSError, DBAPIError, ForeignDatabaseError, StartError) as exc:
        error = start_error(settings, exc, directory)
        if error is None:
            raise
        logging.getLogger(__name__).info("cannot start", exc_info=True)
        fail_start(t, error.problems)


def standby_text(t: Translator, holder: Any) -> str:
    if holder is None:
        return t.gettext(
            "Another instance of Tisserand is active on this database: this one stands by and "
            "takes over when it stops."
        )
    return t.gettext(
        "Another instance of Tisserand is active on this database (host {host}, process {pid}, "
        "since {since}): this one stands by and takes over when it stops.",
        host=holder.host,
        pid=holder.pid,
        since=t.datetime(holder.since, "short") if holder.since else "?",
    )


def run_console_cli(
    settings: Settings,
    t: Translator,
    *,
    user: str | None,
    channel: str | None,
    out_dir: str | None,
    clock_start: str | None,
) -> None:
    from bot.runner import run_console

    start = None
    if clock_start:
        try:
            start = datetime.fromisoformat(clock_start)
        except ValueError:
            fail_config(
                t, ConfigError([("--clock", N_("not an ISO date and time, e.g. 2026-12-03T09:00"))])
            )
        if start.tzinfo is None:
            start = start.replace(tzinfo=settings.network.tz)
    clock = MovableClock(start)
    from bot.startup import check_directory

    directory = (
        ("--out", Path(out_dir)) if out_dir else ("console.out_dir", settings.console.out_dir)
    )
    problems = check_directory(directory[1], directory[0])
    if problems:
        fail_start(t, problems)
    try:
        with environment(t, settings, directory):
            asyncio.run(
                run_console(
                    settings,
                    clock=clock,
                    user=user or settings.console.user,
                    channel=channel or settings.console.channel,
                    out_dir=directory[1],
                    lines=stdin_lines,
                )
            )
    except DatabaseTooNewError as exc:
        fail_database(t, exc)
    except KeyboardInterrupt:
        pass


async def stdin_lines(prompt: Callable[[], str]) -> AsyncIterator[str]:
    """Lines of standard input, read in a thread so the event loop keeps running.

    Bytes that are not text in the input's encoding arrive surrogate-escaped (never an error);
    the console replaces them with U+FFFD."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="surrogateescape")
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            try:
                line = await asyncio.to_thread(input, prompt())
            except EOFError:
                return
            yield line
        else:
            raw = await asyncio.to_thread(sys.stdin.readline)
            if not raw:
                return
            yield raw
