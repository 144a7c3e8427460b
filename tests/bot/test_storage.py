"""Schema, migrations and engine settings, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import Actor, DatabaseTooNewError
from bot.storage import Base
from bot.storage.engine import (
    current_revision,
    head_revision,
    migrate,
    newest_revision_on_disk,
    stored_revision,
)
from bot.storage.members import Member, upsert_member
from tests.conftest import Database

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()


def test_migrate_twice_is_a_no_op(engine: Engine) -> None:
    migrate(engine)
    assert current_revision(engine) == head_revision()


def test_the_newest_revision_read_from_the_files_is_alembics_head(engine: Engine) -> None:
    assert newest_revision_on_disk() == head_revision()
    assert stored_revision(engine) == head_revision()


def test_a_database_at_the_head_starts_without_loading_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'start.sqlite3'}"
    program = (
        "import sys\n"
        "from bot.storage.engine import make_engine, migrate\n"
        f"migrate(make_engine({url!r}))\n"
        "print('alembic' in sys.modules)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["True", "False"]  # the first start creates the schema, the second reads it


def test_an_older_database_is_still_upgraded(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    # Revisions 0002+ would fail to re-create existing tables: prove the upgrade path runs by
    # the error, rather than a silent fast return.
    with pytest.raises(Exception, match=r"(?i)exist"):
        migrate(engine)


def test_database_from_a_newer_version_is_refused_untouched(engine: Engine) -> None:
    with Session(engine) as db:
        upsert_member(db, Actor("console", "alice", "Alice"), NOW)
        db.commit()
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    with pytest.raises(DatabaseTooNewError, match="newer version"):
        migrate(engine)
    with Session(engine) as db:
        assert db.scalars(select(Member.display_name)).all() == ["Alice"]
    assert current_revision(engine) == "ffffffffffff"


def test_one_member_row_per_platform_identity(engine: Engine) -> None:
    with Session(engine) as db:
        first = upsert_member(db, Actor("console", "alice", "Alice"), NOW)
        again = upsert_member(db, Actor("console", "alice", "Alice D."), NOW)
        other_platform = upsert_member(db, Actor("discord", "alice", "Alice"), NOW)
        db.commit()
        assert first.id == again.id != other_platform.id
        assert again.display_name == "Alice D."
        db.add(
            Member(
                platform="console",
                user_id="alice",
                display_name="x",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        with pytest.raises(IntegrityError):
            db.commit()


def test_first_sight_of_a_member_from_many_connections_at_once(engine: Engine) -> None:
    """Events of a new member handled at the same moment by several connections: one row, one
    id for all, a later display name kept; no id is spent by the events of a known member."""
    workers = 8
    barrier = threading.Barrier(workers)

    def first_event(i: int) -> int:
        with Session(engine) as db:
            barrier.wait()
            member = upsert_member(db, Actor("console", "nadia", "Nadia"), NOW)
            db.commit()
            return member.id

    with ThreadPoolExecutor(workers) as pool:
        ids = set(pool.map(first_event, range(workers)))
    assert len(ids) == 1
    with Session(engine) as db:
        rows = db.scalars(select(Member).where(Member.user_id == "nadia")).all()
        assert [(m.id, m.display_name) for m in rows] == [(ids.pop(), "Nadia")]
        renamed = upsert_member(db, Actor("console", "nadia", "Nadia B."), NOW)
        db.commit()
        assert renamed.display_name == "Nadia B."
        newcomer = upsert_member(db, Actor("console", "omar", "Omar"), NOW).id
        db.commit()
    for _ in range(3):  # events of a known member
        with Session(engine) as db:
            assert upsert_member(db, Actor("console", "omar", "Omar"), NOW).id == newcomer
            db.commit()
    with Session(engine) as db:
        assert upsert_member(db, Actor("console", "paul", "Paul"), NOW).id == newcomer + 1


def test_datetimes_come_back_aware_in_utc(engine: Engine) -> None:
    paris_winter = timezone(timedelta(hours=1))
    moment = datetime(2026, 12, 3, 14, 0, tzinfo=paris_winter)
    with Session(engine) as db:
        member = upsert_member(db, Actor("console", "bob", "Bob"), moment)
        db.commit()
        member_id = member.id
    with Session(engine) as db:
        loaded = db.get(Member, member_id)
        assert loaded is not None
        assert loaded.created_at == moment
        assert loaded.created_at.tzinfo is not None
        assert loaded.created_at.utcoffset() == timedelta(0)
    with Session(engine) as db, pytest.raises(Exception, match="naive"):
        db.execute(update(Member).values(updated_at=datetime(2026, 1, 1)))


def test_sqlite_pragmas_and_immediate_transactions(database: Database) -> None:
    if database.kind != "sqlite":
        pytest.skip("SQLite settings")
    eng = database.engine()
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert (conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 5000
    # A write transaction takes the write lock at BEGIN: a second writer waits for it.
    other = database.engine(busy_timeout_ms=50)
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE probe (x INTEGER)")
    with eng.begin(), pytest.raises(Exception, match="locked"), other.begin() as conn2:
        conn2.exec_driver_sql("SELECT 1")
    other.dispose()
    eng.dispose()


def test_postgres_pings_only_connections_idle_for_a_while(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection killed while idle is replaced before use; one given back a moment
    ago is handed out without the ping's round trip."""
    if database.kind != "postgres":
        pytest.skip("PostgreSQL connection pool")
    eng = database.engine(pool_size=1, max_overflow=0)
    pings: list[object] = []
    real_ping = eng.dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(eng.dialect, "do_ping", counting_ping)
    with eng.connect() as conn:
        first_pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with eng.connect() as conn:  # back in the pool a moment ago: no ping
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() == first_pid
    assert pings == []

    # The server ends the idle connection (as a restart would); it has been idle "long enough".
    admin = database.engine()
    with admin.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(first_pid or 0)})")
        conn.commit()
    admin.dispose()
    monkeypatch.setattr("bot.storage.engine.PING_AFTER_IDLE_S", 0.0)
    with eng.connect() as conn:
        new_pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    assert new_pid != first_pid  # without the ping, the dead connection would have failed
    assert pings, "the idle connection was not checked"
    eng.dispose()
