"""``tisserand db backup`` and ``db restore`` for the embedded SQLite database.

Backup: SQLite's online backup API (``sqlite3.Connection.backup``), a consistent copy while the
bot runs and writes: all pages in one step, which reads one snapshot (in WAL mode a reader
never blocks the writers; copying in several steps would restart whenever the bot writes
between two of them, forever on a busy bot). It is written to
``<file>.partial`` beside the target and renamed into place only when complete: a failed backup
leaves no half file, and an existing file is replaced only by a whole one. PostgreSQL has its
own tool: the command says to use ``pg_dump`` of the server's major version (it asks it).

Restore: refused while an instance holds the lease (it is running on this database); the lease is
taken for the time of the restore so none starts meanwhile. The file given must be a SQLite
database of Tisserand (integrity check, a revision this version knows). The current database is
first saved beside itself (``<name>.before-restore-<UTC time>``), then the backup is copied in
with the same API, so nothing is lost either way.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config import Problem, Settings
from bot.core import TisserandError
from bot.i18n import N_
from bot.lease import Holder, lease_for

PAGES_PER_STEP = -1
"""All at once (see above)."""


class BackupRefused(TisserandError):
    """The command cannot do what was asked (exit status 1); ``problem`` says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int


def sqlite_file(settings: Settings) -> Path | None:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _refuse_postgresql(settings: Settings) -> BackupRefused:
    version = "?"
    try:
        from sqlalchemy import text

        from bot.storage.engine import make_engine

        engine = make_engine(settings.effective_database_url)
        try:
            with engine.connect() as connection:
                version = str(connection.execute(text("SHOW server_version")).scalar_one())
        finally:
            engine.dispose()
    except Exception:  # the advice stands without the version
        version = "?"
    return BackupRefused(
        Problem(
            N_(
                "The database is on PostgreSQL (server version {version}): back it up with "
                "pg_dump of that major version (pg_dump --format=custom), and restore it with "
                "pg_restore; tisserand db backup and restore are for the embedded SQLite database."
            ),
            version=version,
        )
    )


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    source.backup(target, pages=PAGES_PER_STEP)


def backup(settings: Settings, target: Path) -> BackupResult:
    """A consistent copy of the SQLite database in ``target``. OSError when it cannot be written
    (the caller names the path); BackupRefused on PostgreSQL or without a database."""
    database = sqlite_file(settings)
    if database is None:
        raise _refuse_postgresql(settings)
    if not database.exists():
        raise BackupRefused(
            Problem(
                N_("There is no database at {path} yet: nothing to back up."), path=str(database)
            )
        )
    if target.exists() and target.resolve() == database.resolve():
        raise BackupRefused(
            Problem(N_("{path} is the database itself: give another file."), path=str(target))
        )
    partial = target.with_name(target.name + ".partial")
    partial.open("wb").close()  # the OS's own error (missing directory, permissions, full disk)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            _copy(source, copy)
        finally:
            copy.close()
        os.replace(partial, target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise _as_os_error(exc, target) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    return BackupResult(target, target.stat().st_size)


def _as_os_error(exc: sqlite3.Error, path: Path) -> OSError:
    name = getattr(exc, "sqlite_errorname", "") or ""
    code = errno.ENOSPC if name.startswith("SQLITE_FULL") else errno.EIO
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        code = errno.EACCES
    return OSError(code, str(exc), str(path))


def _check_backup(path: Path) -> None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        raise _not_a_backup(path) from None
    try:
        if connection.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise _not_a_backup(path)
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        raise _not_a_backup(path) from None
    finally:
        connection.close()
    if len(rows) != 1:
        raise _not_a_backup(path)
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    from bot.storage.engine import alembic_config

    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(rows[0][0])
    except CommandError:
        known = None
    if known is None:
        raise BackupRefused(
            Problem(
                N_(
                    "{path} was written by a newer version of Tisserand (schema revision "
                    "{revision}): upgrade Tisserand before restoring it; nothing was changed."
                ),
                path=str(path),
                revision=str(rows[0][0]),
            )
        )


def _not_a_backup(path: Path) -> BackupRefused:
    return BackupRefused(
        Problem(
            N_(
                "{path} is not a Tisserand database (not SQLite, damaged, or another "
                "application's): nothing was changed."
            ),
            path=str(path),
        )
    )


def _in_use(holder: Holder | None) -> BackupRefused:
    if holder is None:
        return BackupRefused(
            Problem(
                N_(
                    "An instance of Tisserand is running on this database: stop it, then "
                    "restore; nothing was changed."
                )
            )
        )
    return BackupRefused(
        Problem(
            N_(
                "An instance of Tisserand is running on this database (host {host}, process "
                "{pid}): stop it, then restore; nothing was changed."
            ),
            host=holder.host,
            pid=str(holder.pid),
        )
    )


def restore(settings: Settings, source: Path, *, now: datetime | None = None) -> Path | None:
    """Replace the SQLite database by the backup ``source``; returns where the database it
    replaced was saved (None when there was none)."""
    database = sqlite_file(settings)
    if database is None:
        raise _refuse_postgresql(settings)
    if not source.is_file():
        raise BackupRefused(Problem(N_("There is no file {path}."), path=str(source)))
    _check_backup(source)
    lease = lease_for(settings.effective_database_url)
    if not lease.try_acquire():
        raise _in_use(lease.holder())
    try:
        saved: Path | None = None
        if database.exists():
            stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
            saved = database.with_name(f"{database.name}.before-restore-{stamp}")
            backup(settings, saved)
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            current = sqlite3.connect(database)
            try:
                _copy(backup_db, current)
            finally:
                current.close()
        finally:
            backup_db.close()
        return saved
    finally:
        lease.release()
