"""Engines, sessions and migrations.

SQLite (the embedded default) runs in WAL mode with a busy timeout and foreign keys on, and every
transaction begins IMMEDIATE so two writers never deadlock on a lock upgrade. PostgreSQL is reached
through psycopg 3. The schema comes only from Alembic revisions (``alembic/`` of the source tree,
``bot/migrations/`` of an installed wheel).

Alembic is imported only when the schema must change: on a start where the database is already at
the newest revision (read with one query, compared with the newest revision named in the files of
``alembic/versions``), :func:`migrate` returns without loading it, which saves about a third of a
second on every start.
"""

from __future__ import annotations

import logging
import re
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from bot.core import DatabaseTooNewError, ForeignDatabaseError, InvalidState

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)


def _migrations_dir() -> Path:
    """``bot/migrations`` in an installed wheel (copied there by setup.py), else the source
    tree's ``alembic/`` (a checkout, an editable install)."""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "migrations"
    if (packaged / "env.py").exists():
        return packaged
    return here.parents[2] / "alembic"


MIGRATIONS_DIR = _migrations_dir()
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(
    url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **kwargs: Any
) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {
            "timeout": busy_timeout_ms / 1000,
            "check_same_thread": False,
            **kwargs.pop("connect_args", {}),
        }
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE_S = 1.0
"""A pooled connection idle for longer is checked (one round trip) before it is handed out."""


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, but only for connections idle more than a second.

    A connection broken while it sat in the pool (a PostgreSQL restart, an idle timeout) is
    found and replaced before a handler uses it, as with ``pool_pre_ping``; a connection given
    back a moment ago is handed out as is, which saves a round trip on every transaction of a
    busy bot. Should one break within that second, its statement fails, SQLAlchemy drops it
    (and every older connection of the pool), and the handler's transaction is rolled back and
    reported like any database fault."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()  # known alive then

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is not None and time.monotonic() - returned_at < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the driver's own error for a dead connection
            raise DisconnectionError(f"pooled connection is dead: {exc}") from exc
        if not alive:
            raise DisconnectionError("pooled connection is dead")


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    if not (MIGRATIONS_DIR / "env.py").exists():
        raise InvalidState(
            f"migrations not found in {MIGRATIONS_DIR}; reinstall Tisserand from its wheel or "
            "its source tree (pip install .)"
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return config


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


_REVISION_LINE = re.compile(
    r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:\"([^\"]*)\"|'([^']*)'|None)", re.MULTILINE
)


@cache
def newest_revision_on_disk() -> str | None:
    """The head of the revision chain, read from the files without importing Alembic.

    None when the chain is not a single line (a merge, a branch, a file this reader cannot
    follow): the caller then asks Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        found = dict.fromkeys(("revision", "down_revision"), "")
        for match in _REVISION_LINE.finditer(path.read_text(encoding="utf-8")):
            found[match.group(1)] = match.group(2) or match.group(3) or ""
        if not found["revision"]:
            return None
        revisions.add(found["revision"])
        if found["down_revision"]:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The revision recorded in the database with one plain query; None when there is none."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # no alembic_version table yet: a new database
        return None
    return rows[0][0] if len(rows) == 1 else None


def check_not_newer(engine: Engine) -> None:
    """Refuse a database written by a newer Tisserand, before touching anything."""
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    revision = current_revision(engine)
    if revision is None:
        return
    script = ScriptDirectory.from_config(alembic_config())
    try:
        known = script.get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise DatabaseTooNewError(revision)


def check_not_foreign(engine: Engine) -> None:
    """Refuse a database that holds tables but no revision table of Tisserand's (another
    application's, or a file given by mistake), before touching anything."""
    tables = sorted(inspect(engine).get_table_names())
    if tables and "alembic_version" not in tables:
        raise ForeignDatabaseError(tables)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (no-op when it is there already)."""
    newest = newest_revision_on_disk()
    stored = stored_revision(engine)
    if newest is not None and stored == newest:
        return
    from alembic import command

    if stored is None:
        check_not_foreign(engine)
    check_not_newer(engine)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


_UNWRITABLE_SQLITE = frozenset(
    {"SQLITE_READONLY", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN"}
)
_UNWRITABLE_SQLSTATE = frozenset(
    {
        "25006",  # read_only_sql_transaction (default_transaction_read_only, a hot standby)
        "53100",  # disk_full
        "53200",  # out_of_memory
        "53300",  # too_many_connections
        "57P03",  # cannot_connect_now (recovery)
    }
)


def unwritable_database(error: BaseException) -> bool:
    """True when ``error`` says the database cannot be written now (read-only, full, not up).

    Read from the driver's own codes (``sqlite_errorname`` of sqlite3 from Python 3.11, the
    SQLSTATE of psycopg), not from message texts.
    """
    original = error.orig if isinstance(error, DBAPIError) else error
    name = getattr(original, "sqlite_errorname", None)
    if isinstance(name, str):
        return any(name.startswith(code) for code in _UNWRITABLE_SQLITE)
    state = getattr(original, "sqlstate", None)
    return isinstance(state, str) and state in _UNWRITABLE_SQLSTATE


def database_fault(error: BaseException) -> str | None:
    """Why a database cannot be used at all, read from the driver's own codes: ``not_a_database``
    (not SQLite, or damaged), ``full``, ``read_only``, ``cannot_open``, ``unreachable`` (the
    server); None when ``error`` says none of these."""
    original = error.orig if isinstance(error, DBAPIError) else error
    name = getattr(original, "sqlite_errorname", None)
    if isinstance(name, str):
        for code, fault in _SQLITE_FAULTS:
            if name.startswith(code):
                return fault
        return None
    state = getattr(original, "sqlstate", None)
    if isinstance(state, str):
        return _SQLSTATE_FAULTS.get(state) or ("unreachable" if state.startswith("08") else None)
    if type(original).__name__ == "OperationalError" and "psycopg" in type(original).__module__:
        return "unreachable"  # refused, unknown host, timeout: no SQLSTATE before a session
    return None


_SQLITE_FAULTS = (
    ("SQLITE_NOTADB", "not_a_database"),
    ("SQLITE_CORRUPT", "not_a_database"),
    ("SQLITE_FULL", "full"),
    ("SQLITE_READONLY", "read_only"),
    ("SQLITE_CANTOPEN", "cannot_open"),
)
_SQLSTATE_FAULTS = {"53100": "full", "25006": "read_only", "57P03": "unreachable"}
