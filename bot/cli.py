"""The ``tisserand`` command line. Help is in French or English following the locale."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import click

from bot import __version__
from bot.cli_support import (
    EXIT_CONFIG,
    EXIT_DATABASE,
    EXIT_LEASE_LOST,
    cli_locale,
    environment,
    fail_config,
    fail_database,
    fail_start,
    run_console_cli,
    settings_of,
    standby_text,
)
from bot.config import Settings
from bot.core import ConfigError, DatabaseTooNewError, UserError
from bot.i18n import Translators

__all__ = ["EXIT_CONFIG", "EXIT_DATABASE", "EXIT_LEASE_LOST", "build_cli", "cli_locale", "main"]


def build_cli(locale: str | None = None) -> click.Group:
    from zoneinfo import ZoneInfo

    t = Translators(ZoneInfo("Europe/Paris")).get(locale or cli_locale())
    _ = t.gettext

    @click.group(
        help=_(
            "Tisserand: polls, sessions, veille digests and the gazette for networks of local actors."
        )
    )
    @click.version_option(
        __version__, "--version", prog_name="tisserand", message="%(prog)s %(version)s"
    )
    @click.option(
        "--config",
        "config",
        envvar="TISSERAND_CONFIG",
        type=click.Path(dir_okay=False),
        help=_("Configuration file (TOML)."),
    )
    @click.option(
        "--database",
        "database",
        envvar="TISSERAND_DATABASE_URL",
        help=_("Database URL (default: a SQLite file in the data directory)."),
    )
    @click.option("-v", "--verbose", is_flag=True, help=_("Log more details."))
    @click.option(
        "--log-format",
        "log_format",
        type=click.Choice(["text", "json"]),
        default="text",
        envvar="TISSERAND_LOG_FORMAT",
        help=_("Log lines as text or as JSON objects, one per line."),
    )
    @click.pass_context
    def main(
        ctx: click.Context, config: str | None, database: str | None, verbose: bool, log_format: str
    ) -> None:
        from bot.logs import setup_logging

        setup_logging(verbose, "json" if log_format == "json" else "text")
        obj = ctx.ensure_object(dict)
        obj.update(
            t=t, config=config or obj.get("config"), database=database or obj.get("database")
        )

    def _common(func: Any) -> Any:
        """Let --config and --database also be given after the subcommand."""
        with_database = click.option(
            "--database",
            "database",
            default=None,
            help=_("Database URL (default: a SQLite file in the data directory)."),
        )(func)
        return click.option(
            "--config",
            "config",
            type=click.Path(dir_okay=False),
            default=None,
            help=_("Configuration file (TOML)."),
        )(with_database)

    def _merge(ctx: click.Context, config: str | None, database: str | None) -> None:
        obj = ctx.ensure_object(dict)
        if config:
            obj["config"] = config
        if database:
            obj["database"] = database

    @main.command(
        help=_(
            "Start every configured platform and the scheduler (the console when none is configured)."
        )
    )
    @_common
    @click.pass_context
    def run(ctx: click.Context, config: str | None, database: str | None) -> None:
        _merge(ctx, config, database)
        settings = settings_of(ctx)
        if not settings.configured_platforms():
            run_console_cli(settings, t, user=None, channel=None, out_dir=None, clock_start=None)
            return
        from bot.lease import LeaseLost
        from bot.runner import run_platforms

        try:
            with environment(t, settings):
                asyncio.run(
                    run_platforms(
                        settings,
                        on_standby=lambda holder: click.echo(standby_text(t, holder), err=True),
                        on_active=lambda: click.echo(
                            _("The other instance stopped: this one is now active."), err=True
                        ),
                    )
                )
        except LeaseLost:
            click.echo(
                _(
                    "This instance lost the database's lease (its connection to the database "
                    "dropped, or the lock file beside it was removed): the platforms were "
                    "stopped so that only one instance answers. Start it again."
                ),
                err=True,
            )
            sys.exit(EXIT_LEASE_LOST)
        except ConfigError as exc:
            fail_config(t, exc)
        except DatabaseTooNewError as exc:
            fail_database(t, exc)

    @main.command(
        help=_("Talk to the bot in this terminal (or from a script through standard input).")
    )
    @_common
    @click.option("--as", "user", help=_("Name of the user who speaks."))
    @click.option("--channel", help=_("Channel to start in."))
    @click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False),
        help=_("Directory for attachments (default ./tisserand-out)."),
    )
    @click.option(
        "--clock",
        "clock_start",
        help=_("Start the clock at this ISO date and time instead of now."),
    )
    @click.pass_context
    def console(
        ctx: click.Context,
        config: str | None,
        database: str | None,
        user: str | None,
        channel: str | None,
        out_dir: str | None,
        clock_start: str | None,
    ) -> None:
        _merge(ctx, config, database)
        settings = settings_of(ctx)
        run_console_cli(
            settings, t, user=user, channel=channel, out_dir=out_dir, clock_start=clock_start
        )

    @main.group(help=_("Database maintenance."))
    def db() -> None:
        pass

    @db.command("upgrade", help=_("Bring the database schema to this version of Tisserand."))
    @_common
    @click.pass_context
    def db_upgrade(ctx: click.Context, config: str | None, database: str | None) -> None:
        _merge(ctx, config, database)
        settings = settings_of(ctx)
        from bot.storage.engine import current_revision, make_engine, migrate

        with environment(t, settings):
            engine = make_engine(settings.effective_database_url)
            try:
                migrate(engine)
            except DatabaseTooNewError as exc:
                fail_database(t, exc)
            revision = current_revision(engine)
        click.echo(_("Database up to date (revision {revision}).", revision=revision))
        engine.dispose()

    from bot.cli_backup import add_backup_commands

    add_backup_commands(db, t, settings_of, _common, _merge)

    @main.command(
        "check-config", help=_("Check the configuration and name every problem with its key.")
    )
    @_common
    @click.option("--online", is_flag=True, help=_("Also log in to each configured platform."))
    @click.pass_context
    def check_config(
        ctx: click.Context, config: str | None, database: str | None, online: bool
    ) -> None:
        _merge(ctx, config, database)
        from bot.runner import check_settings
        from bot.startup import StartError

        settings = settings_of(ctx)
        try:
            check_settings(settings, online=online)
        except ConfigError as exc:
            fail_config(t, exc)
        except StartError as exc:
            fail_start(t, exc.problems)
        click.echo(_("Configuration OK."))

    def _migrated_engine(settings: Settings) -> Any:
        from bot.storage.engine import make_engine, migrate

        with environment(t, settings):
            engine = make_engine(settings.effective_database_url)
            try:
                migrate(engine)
            except DatabaseTooNewError as exc:
                fail_database(t, exc)
        return engine

    @main.group(help=_("Calendars of the sessions."))
    def calendar() -> None:
        pass

    @calendar.command("export", help=_("Write one calendar file (.ics) of every upcoming session."))
    @_common
    @click.option(
        "--out",
        "out",
        default="tisserand-sessions.ics",
        show_default=True,
        type=click.Path(dir_okay=False),
        help=_("The file to write."),
    )
    @click.pass_context
    def calendar_export(
        ctx: click.Context, config: str | None, database: str | None, out: str
    ) -> None:
        _merge(ctx, config, database)
        settings = settings_of(ctx)
        from bot.clock import SystemClock
        from bot.storage.engine import make_session_factory
        from commands.sessions import export_calendar

        engine = _migrated_engine(settings)
        count = export_calendar(
            make_session_factory(engine),
            Path(out),
            now=SystemClock().now(),
            tz=settings.network.tz,
            network_name=settings.network.name,
            locale=t.locale,
        )
        engine.dispose()
        click.echo(
            t.ngettext(
                "{n} upcoming session written to {path}.",
                "{n} upcoming sessions written to {path}.",
                count,
                path=out,
            )
        )

    @main.group(help=_("The network's gazette."))
    def gazette() -> None:
        pass

    @gazette.command(
        "build", help=_("Write the gazette to an HTML file (the draft, a period or a session).")
    )
    @_common
    @click.option(
        "--out", "out", required=True, type=click.Path(dir_okay=False), help=_("The file to write.")
    )
    @click.option("--since", "since", help=_("Start of the period (a date, e.g. 2026-10-01)."))
    @click.option(
        "--session", "session_id", type=int, help=_("The session number the gazette is about.")
    )
    @click.pass_context
    def gazette_build(
        ctx: click.Context,
        config: str | None,
        database: str | None,
        out: str,
        since: str | None,
        session_id: int | None,
    ) -> None:
        _merge(ctx, config, database)
        settings = settings_of(ctx)
        from bot.clock import SystemClock
        from bot.dates import DateParseError, parse_datetime
        from bot.family import gazette_sources
        from bot.storage.engine import make_session_factory
        from bot.wiring import FAMILIES
        from commands.gazette import build_gazette_file

        start = None
        if since:
            try:
                start = parse_datetime(
                    since, now=SystemClock().now(), tz=settings.network.tz, past=True
                )
            except DateParseError:
                fail_config(t, ConfigError([("--since", _("not a date, e.g. 2026-10-01"))]))
        engine = _migrated_engine(settings)
        try:
            result = build_gazette_file(
                make_session_factory(engine),
                Path(out),
                since=start,
                session_id=session_id,
                settings=settings,
                locale=t.locale,
                sources=gazette_sources(FAMILIES),
            )
        except UserError as exc:
            click.echo(exc.message, err=True)
            sys.exit(1)
        finally:
            engine.dispose()
        click.echo(
            t.ngettext(
                "Gazette written to {path}: {n} item, {size} bytes.",
                "Gazette written to {path}: {n} items, {size} bytes.",
                result.items,
                path=result.path,
                size=result.size,
            )
        )

    from commands.report_cli import CliHooks, report_group

    hooks = CliHooks(_common, _merge, settings_of, _migrated_engine, fail_config)
    main.add_command(report_group(t, hooks))

    def _app(settings: Settings) -> Any:
        from bot.wiring import make_app

        with environment(t, settings):
            app = make_app(settings)
            try:
                app.migrate()
            except DatabaseTooNewError as exc:
                fail_database(t, exc)
        return app

    @main.group(help=_("Feeds of the veille."))
    def feeds() -> None:
        pass

    @feeds.command("refresh", help=_("Fetch the feeds that are due now (every feed with --all)."))
    @_common
    @click.option("--all", "force", is_flag=True, help=_("Fetch every enabled feed, due or not."))
    @click.pass_context
    def feeds_refresh(
        ctx: click.Context, config: str | None, database: str | None, force: bool
    ) -> None:
        _merge(ctx, config, database)
        settings = settings_of(ctx)
        from commands.veille import refresh_all

        app = _app(settings)
        with click.progressbar(length=1, label=_("Refreshing feeds"), file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            report = asyncio.run(refresh_all(app, progress=progress, force=force))
        app.engine.dispose()
        click.echo(
            _(
                "{checked} checked, {updated} updated, {not_modified} unchanged, {failed} failed, "
                "{disabled} disabled, {new} new entries.",
                checked=report.checked,
                updated=report.updated,
                not_modified=report.not_modified,
                failed=report.failed,
                disabled=report.disabled,
                new=report.new_entries,
            )
        )

    @main.group(help=_("Sources of the veille: OPML import and export."))
    def veille() -> None:
        pass

    @veille.command("import", help=_("Import the feeds of an OPML file into a channel."))
    @_common
    @click.argument("opml_file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--channel", required=True, help=_("The channel (name or id)."))
    @click.option(
        "--platform", help=_("The platform of the channel (console, rocketchat, discord).")
    )
    @click.pass_context
    def veille_import(
        ctx: click.Context,
        config: str | None,
        database: str | None,
        opml_file: str,
        channel: str,
        platform: str | None,
    ) -> None:
        _merge(ctx, config, database)
        settings = settings_of(ctx)
        from commands.veille import OpmlError, import_opml

        app = _app(settings)
        try:
            report = import_opml(
                app, Path(opml_file).read_bytes(), channel=channel, platform=platform
            )
        except OpmlError as exc:
            click.echo(_("Nothing imported: {problem}", problem=str(exc)), err=True)
            sys.exit(1)
        except LookupError:
            click.echo(
                _(
                    "Nothing imported: the channel “{channel}” is unknown. Tisserand knows a "
                    "channel once it has seen it: start the bot (tisserand run), write something "
                    "in #{channel} (or type a command there), then import again. Or give the "
                    "platform and the channel's id: --platform rocketchat --channel ID.",
                    channel=channel.lstrip("#"),
                ),
                err=True,
            )
            sys.exit(1)
        finally:
            app.engine.dispose()
        click.echo(
            _(
                "{added} feeds added, {duplicates} already there, {invalid} invalid.",
                added=len(report.added),
                duplicates=report.duplicates,
                invalid=len(report.invalid),
            )
        )

    @veille.command("export", help=_("Write the feeds as OPML (one channel, or all)."))
    @_common
    @click.option("--channel", help=_("The channel (name or id)."))
    @click.option(
        "--platform", help=_("The platform of the channel (console, rocketchat, discord).")
    )
    @click.option(
        "--out",
        "out",
        type=click.Path(dir_okay=False),
        help=_("The file to write (default: standard output)."),
    )
    @click.pass_context
    def veille_export(
        ctx: click.Context,
        config: str | None,
        database: str | None,
        channel: str | None,
        platform: str | None,
        out: str | None,
    ) -> None:
        _merge(ctx, config, database)
        settings = settings_of(ctx)
        from commands.veille import export_opml

        app = _app(settings)
        try:
            data = export_opml(app, channel=channel, platform=platform)
        except LookupError as exc:
            click.echo(_("Nothing exported: {problem}", problem=str(exc)), err=True)
            sys.exit(1)
        finally:
            app.engine.dispose()
        if out:
            Path(out).write_bytes(data)
        else:
            click.echo(data.decode("utf-8"), nl=False)

    @main.group(help=_("The weekly digests."))
    def digest() -> None:
        pass

    @digest.command("preview", help=_("Print the next digest of a channel."))
    @_common
    @click.option("--channel", required=True, help=_("The channel (name or id)."))
    @click.option(
        "--platform", help=_("The platform of the channel (console, rocketchat, discord).")
    )
    @click.pass_context
    def digest_preview(
        ctx: click.Context,
        config: str | None,
        database: str | None,
        channel: str,
        platform: str | None,
    ) -> None:
        _merge(ctx, config, database)
        settings = settings_of(ctx)
        from commands.veille import preview_digest

        app = _app(settings)
        try:
            click.echo(preview_digest(app, channel=channel, platform=platform, locale=t.locale))
        except LookupError as exc:
            click.echo(_("No digest: {problem}", problem=str(exc)), err=True)
            sys.exit(1)
        finally:
            app.engine.dispose()

    def _subscribers(ctx: click.Context, config: str | None, database: str | None) -> Any:
        _merge(ctx, config, database)
        from bot.storage.engine import make_session_factory

        settings = settings_of(ctx)
        return settings, make_session_factory(_migrated_engine(settings))

    from commands.mailing import subscribers_group
    from commands.profile.cli import member_group

    main.add_command(subscribers_group(t, _common, _subscribers))

    def _member_app(ctx: click.Context, config: str | None, database: str | None) -> Any:
        _merge(ctx, config, database)
        return _app(settings_of(ctx))

    main.add_command(member_group(t, _common, _member_app))
    return main


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    build_cli()(obj={})
