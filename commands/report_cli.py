"""``tisserand report build``: the annual activity report from the command line.

Kept out of :mod:`bot.cli` (which only adds the group) and out of the ``commands.report``
package, whose import loads the renderer: ``tisserand --help`` and the console pay nothing for it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from bot.config import Settings
from bot.core import ConfigError
from bot.i18n import Translator


@dataclass(frozen=True, slots=True)
class CliHooks:
    """What the command line shares with its commands (see :func:`bot.cli.build_cli`)."""

    common: Callable[[Any], Any]
    """The ``--config`` / ``--database`` options."""
    merge: Callable[[click.Context, str | None, str | None], None]
    settings: Callable[[click.Context], Settings]
    migrated_engine: Callable[[Settings], Any]
    fail_config: Callable[[Translator, ConfigError], Any]


def report_group(t: Translator, hooks: CliHooks) -> click.Group:
    _ = t.gettext

    @click.group("report", help=_("The annual activity report."))
    def report() -> None:
        pass

    @report.command("build", help=_("Write the annual activity report (HTML, and a spreadsheet)."))
    @hooks.common
    @click.option("--annee", "--year", "year", required=True, type=int, help=_("The year."))
    @click.option(
        "--out", "out", required=True, type=click.Path(dir_okay=False), help=_("The file to write.")
    )
    @click.option(
        "--xlsx",
        "xlsx",
        type=click.Path(dir_okay=False),
        help=_("Also write the figures as a spreadsheet (.xlsx)."),
    )
    @click.pass_context
    def build(
        ctx: click.Context,
        config: str | None,
        database: str | None,
        year: int,
        out: str,
        xlsx: str | None,
    ) -> None:
        hooks.merge(ctx, config, database)
        settings = hooks.settings(ctx)
        from bot.clock import SystemClock
        from bot.dates import FIRST_YEAR, LAST_YEAR
        from bot.family import report_sources
        from bot.i18n import Translators
        from bot.storage.engine import make_session_factory
        from bot.wiring import FAMILIES
        from commands.report import NoActivity, build_report

        if not FIRST_YEAR <= year <= LAST_YEAR:
            wrong = _("a year between {first} and {last}", first=FIRST_YEAR, last=LAST_YEAR)
            hooks.fail_config(t, ConfigError([("--annee", wrong)]))
        engine = hooks.migrated_engine(settings)
        public = Translators(settings.network.tz, settings.network.locale).get(None)
        try:
            with make_session_factory(engine)() as db:
                files = build_report(
                    db,
                    public,
                    year,
                    network=settings.network.name,
                    sources=report_sources(FAMILIES),
                    now=SystemClock().now(),
                )
        except NoActivity:
            click.echo(_("Nothing happened in {year}: no report was written.", year=year), err=True)
            sys.exit(1)
        finally:
            engine.dispose()
        Path(out).write_bytes(files.html)
        if xlsx:
            Path(xlsx).write_bytes(files.xlsx)
        size = len(files.html)
        click.echo(
            _("Report {year} written to {path} ({size} bytes).", year=year, path=out, size=size)
        )

    return report
