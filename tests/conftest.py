"""Shared fixtures: no network but loopback, databases (SQLite always, PostgreSQL when asked)."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from bot.storage.engine import make_engine, migrate
from tests.support.chat import Chat

PG_URL_ENV = "TISSERAND_TEST_DATABASE_URL"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address: Any) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise ConnectionRefusedError(f"tests may only connect to loopback, not {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise ConnectionRefusedError(f"tests may only connect to loopback, not {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _refuse_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


def postgres_url() -> str | None:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        return None
    from bot.config import normalize_database_url

    return normalize_database_url(url)


def _pg_schema_url(base: str, schema: str) -> str:
    url = make_url(base)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


class Database:
    """A fresh, empty database for one test: a SQLite file, or a PostgreSQL schema."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self._admin: Engine | None = None
        if kind == "sqlite":
            self.url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
            self.schema = None
        else:
            base = postgres_url()
            assert base is not None
            self.schema = "t_" + uuid.uuid4().hex[:12]
            self._admin = make_engine(base)
            with self._admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            self.url = _pg_schema_url(base, self.schema)

    def engine(self, **kwargs: Any) -> Engine:
        return make_engine(self.url, **kwargs)

    def drop(self) -> None:
        if self._admin is not None and self.schema is not None:
            with self._admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            self._admin.dispose()


def _db_params() -> list[Any]:
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgres",
            id="postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(postgres_url() is None, reason=f"{PG_URL_ENV} is not set"),
            ],
        ),
    ]


@pytest.fixture(params=_db_params())
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    db = Database(request.param, tmp_path)
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture
def engine(database: Database) -> Iterator[Engine]:
    """A migrated engine on a fresh database (SQLite, and PostgreSQL when configured)."""
    eng = database.engine()
    migrate(eng)
    yield eng
    eng.dispose()


@pytest_asyncio.fixture
async def chat(database: Database, tmp_path: Path) -> AsyncIterator[Chat]:
    """The one chat harness (:mod:`tests.support.chat`) on a fresh database, every family wired."""
    running = await Chat.start(database.url, tmp_path)
    try:
        yield running
    finally:
        await running.stop()
