"""What the environment must give Tisserand to start: a database it may use, a directory it may
write, some disk space.

Configuration mistakes are :class:`bot.core.ConfigError` (exit status 2). What this module finds
is :class:`StartError` (exit status 3): the database file is not a database, belongs to another
application or to a newer Tisserand, the server cannot be reached, the disk is full, a
directory cannot be written. Each problem names the key (or the path) at fault and is explained
by a :class:`bot.config.Problem` the command line translates. The checks change nothing: no
table is created, no file is left behind.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from sqlalchemy.exc import DatabaseError, DBAPIError, InterfaceError, OperationalError

from bot.config import Problem, Settings
from bot.core import DatabaseTooNewError, ForeignDatabaseError, TisserandError
from bot.i18n import N_


class StartError(TisserandError):
    """The environment stops Tisserand from starting; ``problems`` are ``(key, explanation)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems))
        self.problems = problems


def database_key(settings: Settings) -> str:
    """The setting that chose the database."""
    return "database_url" if settings.database_url else "data_dir"


def _database_path(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url.split("?")[0].rsplit("@", 1)[-1]  # no password
    return str(settings.data_dir / "tisserand.sqlite3")


def path_problem(exc: OSError, path: Path | str | None = None) -> Problem:
    """What an operating-system error on ``path`` means, in words a person can act on."""
    where = str(path if path is not None else exc.filename or "?")
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return Problem(N_("{path}: the disk is full; free some space, then try again"), path=where)
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return Problem(N_("{path}: a part of this path is a file, not a directory"), path=where)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return Problem(
            N_("{path}: cannot write here (permissions, or a read-only disk)"), path=where
        )
    return Problem(
        N_("{path}: cannot write here: {reason}"), path=where, reason=exc.strerror or str(exc)
    )


def database_problem(settings: Settings, exc: BaseException) -> Problem | None:
    """What an error raised while opening or migrating the database means; None when it is not
    about the database (a bug, to be shown as one)."""
    from bot.storage.engine import database_fault

    path = _database_path(settings)
    if isinstance(exc, DatabaseTooNewError):
        return Problem(
            N_(
                "The database is at schema revision {revision}, written by a newer version of "
                "Tisserand. Upgrade Tisserand to use it; nothing was changed."
            ),
            revision=exc.revision,
        )
    if isinstance(exc, ForeignDatabaseError):
        return Problem(
            N_(
                "{path} holds the tables of another application ({tables}) and none of "
                "Tisserand's: give Tisserand its own database (a new SQLite file, an empty "
                "PostgreSQL database); nothing was changed"
            ),
            path=path,
            tables=", ".join(exc.tables[:5]) + (", …" if len(exc.tables) > 5 else ""),
        )
    if not isinstance(exc, DBAPIError):
        return None
    fault = database_fault(exc)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    if fault == "not_a_database":
        return Problem(
            N_(
                "{path} is not a database Tisserand can read (not SQLite, or damaged): give the "
                "path of a Tisserand database, or of a file that does not exist yet; nothing "
                "was changed"
            ),
            path=path,
        )
    if fault == "full":
        return Problem(
            N_(
                "the disk that holds the database is full ({path}): free some space, then try again"
            ),
            path=path,
        )
    if fault == "read_only":
        return Problem(
            N_(
                "the database {path} is read-only: check the permissions of the file and its directory"
            ),
            path=path,
        )
    if fault == "cannot_open":
        return Problem(
            N_("cannot open the database file {path}: check that its directory can be written"),
            path=path,
        )
    if fault == "unreachable":
        return Problem(
            N_("cannot reach the database server ({path}): {reason}"), path=path, reason=reason
        )
    if isinstance(exc, OperationalError | InterfaceError) or type(exc) is DatabaseError:
        return _unusable(path, reason)
    return None


def _unusable(path: str, reason: str) -> Problem:
    return Problem(N_("cannot use the database {path}: {reason}"), path=path, reason=reason)


def start_error(
    settings: Settings, exc: BaseException, directory: tuple[str, Path] | None = None
) -> StartError | None:
    """The :class:`StartError` for ``exc``, raised while starting or running; None when it is not
    about the environment. ``directory`` is the output directory and its key, if any."""
    if isinstance(exc, StartError):
        return exc
    if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError | ConnectionError):
        key = str(exc.filename) if exc.filename else "?"
        if directory is not None and (
            exc.filename is None or _inside(Path(str(exc.filename)), directory[1])
        ):
            key = directory[0]
        elif exc.filename and _inside(Path(str(exc.filename)), settings.data_dir):
            key = "data_dir"
        return StartError([(key, path_problem(exc))])
    problems = _database_problems(settings, exc)
    return StartError(problems) if problems else None


def _database_problems(settings: Settings, exc: BaseException) -> list[tuple[str, str]]:
    problem = database_problem(settings, exc)
    if problem is None:
        return []
    directory = _sqlite_directory(settings)
    if isinstance(exc, DBAPIError) and directory is not None:
        # "disk I/O error" says less than the directory does: full, read-only, not a directory.
        found = check_directory(directory, database_key(settings))
        if found:
            return found
    return [(database_key(settings), problem)]


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.absolute().relative_to(directory.absolute())
    except ValueError:
        return False
    return True


def check_directory(path: Path, key: str) -> list[tuple[str, str]]:
    """``path`` is a directory Tisserand can write, or one it can create; nothing is left."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return [(key, path_problem(OSError(errno.ENOTDIR, "not a directory"), path))]
    try:
        descriptor, name = tempfile.mkstemp(dir=existing, prefix=".tisserand-")
        try:
            os.write(descriptor, b"x")  # a full disk refuses data even when a name still fits
        finally:
            os.close(descriptor)
            os.unlink(name)
    except OSError as exc:
        return [(key, path_problem(exc, path))]
    return []


def check_database(settings: Settings) -> list[tuple[str, str]]:
    """The database opens, is Tisserand's and is not newer than this version; nothing changes
    (a SQLite file that does not exist yet is created empty, as the first start would)."""
    from bot.storage.engine import check_not_foreign, check_not_newer, make_engine

    key = database_key(settings)
    try:
        engine = make_engine(settings.effective_database_url)
    except OSError as exc:
        return [(key, path_problem(exc))]
    try:
        with engine.connect():
            pass
        check_not_foreign(engine)
        check_not_newer(engine)
    except Exception as exc:  # check-config names every problem, even one not foreseen here
        return _database_problems(settings, exc) or [
            (key, _unusable(_database_path(settings), str(exc)))
        ]
    finally:
        engine.dispose()
    directory = _sqlite_directory(settings)
    return check_directory(directory, key) if directory is not None else []


def _sqlite_directory(settings: Settings) -> Path | None:
    """The directory of a SQLite file, where SQLite also writes its journal (None otherwise)."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.effective_database_url)
    database = url.database if url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).parent
