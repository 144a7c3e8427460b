"""``tisserand db backup FILE`` and ``tisserand db restore FILE`` (:mod:`bot.backup`), added to
the ``db`` group by :mod:`bot.cli`.

Exit statuses: 0 done; 1 refused (PostgreSQL: use pg_dump; no database yet; not a Tisserand
database; an instance is running on the database to restore); 3 the file cannot be written or
read (the path and the reason, e.g. permissions or a full disk)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bot.config import Settings, explain
from bot.i18n import Translator

EXIT_REFUSED = 1
EXIT_ENVIRONMENT = 3


def add_backup_commands(
    db: click.Group,
    t: Translator,
    settings_of: Callable[[click.Context], Settings],
    common: Callable[[Any], Any],
    merge: Callable[[click.Context, str | None, str | None], None],
) -> None:
    _ = t.gettext

    def refused(problem: str) -> None:
        click.echo(explain(t, problem), err=True)
        sys.exit(EXIT_REFUSED)

    def unwritable(exc: OSError, path: Path) -> None:
        from bot.startup import path_problem

        click.echo(explain(t, path_problem(exc, path)), err=True)
        sys.exit(EXIT_ENVIRONMENT)

    @db.command(
        "backup",
        help=_(
            "Copy the SQLite database to FILE, consistently, even while the bot runs "
            "(PostgreSQL: use pg_dump)."
        ),
    )
    @common
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.pass_context
    def db_backup(ctx: click.Context, config: str | None, database: str | None, file: str) -> None:
        merge(ctx, config, database)
        settings = settings_of(ctx)
        from bot.backup import BackupRefused, backup

        try:
            result = backup(settings, Path(file))
        except BackupRefused as exc:
            refused(exc.problem)
            return
        except OSError as exc:
            unwritable(exc, Path(file))
            return
        click.echo(_("Database saved to {path} ({size} bytes).", path=file, size=result.size))

    @db.command(
        "restore",
        help=_(
            "Replace the SQLite database by the backup FILE (the bot must be stopped; the "
            "current database is kept beside it)."
        ),
    )
    @common
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.pass_context
    def db_restore(ctx: click.Context, config: str | None, database: str | None, file: str) -> None:
        merge(ctx, config, database)
        settings = settings_of(ctx)
        from bot.backup import BackupRefused, restore, sqlite_file

        try:
            saved = restore(settings, Path(file))
        except BackupRefused as exc:
            refused(exc.problem)
            return
        except OSError as exc:
            unwritable(exc, sqlite_file(settings) or Path(file))
            return
        if saved is not None:
            click.echo(_("The database it replaced was saved to {path}.", path=str(saved)))
        click.echo(_("Database restored from {path}.", path=file))
