"""One active instance per database: the lease.

``tisserand run`` takes the database's lease before it connects to any platform or schedules
anything; another instance on the same database stands by, says who holds the lease, and takes
it over when the holder stops, dies or loses its connection. The operating system or the
database server releases the lease of a process that dies (SIGKILL included): nothing has to
expire.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on one connection kept
  for that purpose, keyed by the schema (two networks may share one server, or one database in
  two schemas). The holder names itself in that connection's ``application_name``, which the
  standby reads from ``pg_stat_activity`` joined to ``pg_locks``. If the connection drops (a
  server restart, ``pg_terminate_backend``, the network), the lock is gone: :meth:`Lease.check`
  says so and the runner stops the platforms.
- SQLite: an exclusive ``flock`` on the file ``<database>.lease`` beside the database; the holder
  writes who it is into it. The lease is lost if that file is deleted or replaced.
- An in-memory SQLite database has nothing to share: its lease is always granted.

The lease is only about being *active* (platforms and scheduled work). Everything else keeps
working beside a running bot: ``tisserand db upgrade``, the CLI commands that read, a backup. The
outbox does not rely on it either: rows are still claimed one by one (``FOR UPDATE SKIP LOCKED``
on PostgreSQL), so even two active instances would send each row once.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.core import TisserandError

log = logging.getLogger(__name__)

PG_LEASE_CLASS = 0x7453  # "tS": the first key of Tisserand's advisory locks
_APP_NAME_PREFIX = "tisserand-lease"


class LeaseLost(TisserandError):
    """The instance lost the database's lease while active (exit status 4)."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a lease: a host, a process id, since when (UTC)."""

    host: str
    pid: int
    since: datetime | None

    def as_json(self) -> str:
        since = self.since.isoformat() if self.since else None
        return json.dumps({"host": self.host, "pid": self.pid, "since": since})

    @classmethod
    def from_json(cls, text: str) -> Holder | None:
        try:
            data = json.loads(text)
            since = datetime.fromisoformat(data["since"]) if data.get("since") else None
            return cls(str(data["host"]), int(data["pid"]), since)
        except (ValueError, KeyError, TypeError):
            return None


def this_process(now: datetime | None = None) -> Holder:
    return Holder(
        socket.gethostname(), os.getpid(), (now or datetime.now(UTC)).replace(microsecond=0)
    )


class Lease:
    """No lease to take (an in-memory database): always granted, never lost."""

    kind = "none"

    def __init__(self) -> None:
        self.held = False
        self.holder_info: Holder | None = None

    def try_acquire(self) -> bool:
        """Take the lease if it is free; True when this instance holds it (now or already)."""
        self.held = True
        self.holder_info = this_process()
        return True

    def holder(self) -> Holder | None:
        """Who holds the lease now (None: nobody, or a holder that cannot be read)."""
        return self.holder_info if self.held else None

    def check(self) -> bool:
        """True while this instance still holds the lease."""
        return self.held

    def release(self) -> None:
        self.held = False


class FileLease(Lease):
    """An exclusive ``flock`` on ``<database>.lease`` (SQLite)."""

    kind = "file"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        import fcntl

        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        me = this_process()
        os.ftruncate(fd, 0)
        os.pwrite(fd, me.as_json().encode(), 0)
        os.fsync(fd)
        self._fd = fd
        self.held = True
        self.holder_info = me
        return True

    def holder(self) -> Holder | None:
        if self.held:
            return self.holder_info
        try:
            return Holder.from_json(self.path.read_text(encoding="utf-8"))
        except OSError:
            return None

    def check(self) -> bool:
        if self._fd is None:
            return False
        try:
            return os.fstat(self._fd).st_ino == os.stat(self.path).st_ino
        except OSError:  # deleted: another instance could lock a new file of that name
            return False

    def release(self) -> None:
        import fcntl

        if self._fd is None:
            return
        ours = self.check()  # still our file: leave it empty for the next holder to fill
        fd, self._fd = self._fd, None
        self.held = False
        try:
            if ours:
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class PostgresLease(Lease):
    """A session-level advisory lock on a connection of its own (PostgreSQL)."""

    kind = "postgresql"

    def __init__(self, url: str) -> None:
        super().__init__()
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self._engine = create_engine(url, poolclass=NullPool)
        self._connection: Any = None

    _KEY = "hashtext('tisserand:' || current_schema()) & 2147483647"

    def _connect(self) -> Any:
        if self._connection is None or self._connection.closed:
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._connection = connection
        return self._connection

    def try_acquire(self) -> bool:
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        if self.held:
            return True
        try:
            connection = self._connect()
            got = connection.execute(
                text(f"SELECT pg_try_advisory_lock(:cls, {self._KEY})"), {"cls": PG_LEASE_CLASS}
            ).scalar_one()
        except DBAPIError:
            self._drop()
            raise
        if not got:
            return False
        me = this_process()
        name = f"{_APP_NAME_PREFIX} {me.pid} {int(me.since.timestamp()) if me.since else 0} "
        name += me.host[: 63 - len(name)]
        connection.execute(
            text("SELECT set_config('application_name', :name, false)"), {"name": name}
        )
        self.held = True
        self.holder_info = me
        return True

    def holder(self) -> Holder | None:
        from sqlalchemy import text

        if self.held:
            return self.holder_info
        query = text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            f"AND l.classid = :cls AND l.objid = ({self._KEY})::oid"
        )
        name = self._connect().execute(query, {"cls": PG_LEASE_CLASS}).scalar()
        return _holder_from_app_name(name) if isinstance(name, str) else None

    def check(self) -> bool:
        from sqlalchemy import text

        if not self.held or self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure of that connection means the lock is gone
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            log.warning("the lease's database connection failed: %s", reason[0] if reason else exc)
            self.held = False
            self._drop()
            return False
        return True

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except Exception:
                log.debug("closing a broken lease connection", exc_info=True)

    def release(self) -> None:
        self.held = False
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()  # ends the session, which ends its advisory locks
            except Exception:
                log.debug("closing the lease connection", exc_info=True)
        self._engine.dispose()


def _holder_from_app_name(name: str) -> Holder | None:
    parts = name.split(" ", 3)
    if len(parts) != 4 or parts[0] != _APP_NAME_PREFIX:
        return None
    try:
        pid, stamp = int(parts[1]), int(parts[2])
    except ValueError:
        return None
    return Holder(parts[3], pid, datetime.fromtimestamp(stamp, UTC) if stamp else None)


def lease_for(url: str) -> Lease:
    """The lease of the database at ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return Lease()
        return FileLease(Path(database + ".lease"))
    return PostgresLease(url)
