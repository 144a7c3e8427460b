"""The database lease (bot.lease) within one process: two leases on one database exclude each
other, the holder is named to the other, a lost lease is noticed, a released one is free."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.lease import FileLease, Lease, PostgresLease, lease_for
from tests.conftest import Database


def test_an_in_memory_database_needs_no_lease() -> None:
    lease = lease_for("sqlite:///:memory:")
    assert type(lease) is Lease
    assert lease.try_acquire() and lease.check()


def test_a_sqlite_lease_is_a_lock_file_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'tisserand.sqlite3'}"
    first, second = lease_for(url), lease_for(url)
    assert isinstance(first, FileLease) and first.path == tmp_path / "db/tisserand.sqlite3.lease"
    assert first.try_acquire()
    assert not second.try_acquire()
    holder = second.holder()
    assert holder is not None and holder.pid == os.getpid() and holder.since is not None
    assert first.check()
    first.release()
    assert second.holder() is None  # released: the file is empty until the next holder
    assert second.try_acquire() and second.check()
    second.path.unlink()  # someone removed the lock file: another could lock a new one
    assert not second.check()
    second.release()


def test_a_postgresql_lease_is_an_advisory_lock_named_in_pg_stat_activity(
    database: Database,
) -> None:
    if database.kind != "postgres":
        pytest.skip("PostgreSQL only")
    first, second = lease_for(database.url), lease_for(database.url)
    assert isinstance(first, PostgresLease)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        holder = second.holder()
        assert holder is not None and holder.pid == os.getpid()
        assert first.check()
        engine = database.engine()
        with engine.begin() as conn:  # the server drops the holder's connection
            killed = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name LIKE 'tisserand-lease %' AND pid <> pg_backend_pid() "
                    "AND datname = current_database()"
                )
            ).all()
        engine.dispose()
        assert killed
        assert not first.check()
        assert second.try_acquire() and second.check()
    finally:
        first.release()
        second.release()
