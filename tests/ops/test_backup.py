"""``tisserand db backup`` / ``db restore`` (real processes) and the log options.

The backup is taken while another process-like writer (a thread with its own connection)
commits batches of ten rows: the copy holds whole batches only, passes SQLite's integrity
check, and once restored the bot opens it. A backup to an unwritable path, a restore onto a
database in use, a file that is not a database, PostgreSQL: a clear message, the exit status
documented, nothing changed."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from bot.config import read_secret
from bot.lease import lease_for
from bot.logs import setup_logging
from bot.storage.engine import make_engine, migrate
from tests.bot.test_cli import TISSERAND, _env
from tests.conftest import Database

BATCH = 10


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TISSERAND, *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path, LANG="en_US.UTF-8", **env),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def _database(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "tisserand.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE scratch (batch INTEGER, n INTEGER, pad TEXT)")
    return path


def _write_batches(path: Path, stop: threading.Event, written: list[int]) -> None:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    batch = 0
    while not stop.is_set():
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO scratch VALUES (?, ?, ?)", [(batch, n, "x" * 500) for n in range(BATCH)]
        )
        connection.execute("COMMIT")
        batch += 1
        written.append(batch)
    connection.close()


def _count(path: Path) -> tuple[str, int]:
    with sqlite3.connect(path) as connection:
        check = connection.execute("PRAGMA integrity_check").fetchone()[0]
        return check, connection.execute("SELECT count(*) FROM scratch").fetchone()[0]


def test_a_backup_while_writing_is_consistent_and_restores(tmp_path: Path) -> None:
    database = _database(tmp_path)
    stop, written = threading.Event(), []
    writer = threading.Thread(target=_write_batches, args=(database, stop, written))
    writer.start()
    try:
        while len(written) < 20:  # the database is being written
            stop.wait(0.01)
        result = _run(["db", "backup", str(tmp_path / "copy.sqlite3")], tmp_path)
        during = len(written)
    finally:
        stop.set()
        writer.join()
    assert result.returncode == 0, result.stderr
    assert "Database saved to" in result.stdout
    check, rows = _count(tmp_path / "copy.sqlite3")
    assert check == "ok"
    assert rows % BATCH == 0 and 20 * BATCH <= rows <= during * BATCH + BATCH
    assert not (tmp_path / "copy.sqlite3.partial").exists()

    before = _count(database)[1]
    assert before > rows
    restored = _run(["db", "restore", str(tmp_path / "copy.sqlite3")], tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert _count(database) == ("ok", rows)
    (saved,) = database.parent.glob("tisserand.sqlite3.before-restore-*")
    assert _count(saved) == ("ok", before)  # nothing lost: the replaced database is kept
    answer = subprocess.run(
        [TISSERAND, "console", "--out", str(tmp_path / "out")],
        input="/aide\n",
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert answer.returncode == 0 and "[#2]" in answer.stdout, answer.stderr


def test_a_backup_to_an_unwritable_place_is_named_and_leaves_nothing(tmp_path: Path) -> None:
    _database(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    target = locked / "copy.sqlite3"
    if os.access(locked, os.W_OK):  # root may write anywhere, but not in sysfs
        target = Path("/sys/tisserand-copy.sqlite3")
    try:
        result = _run(["db", "backup", str(target)], tmp_path)
    finally:
        locked.chmod(stat.S_IRWXU)
    assert result.returncode == 3
    assert str(target) in result.stderr and "Traceback" not in result.stderr
    assert "cannot write here" in result.stderr
    assert list(locked.iterdir()) == []
    assert not target.exists()


def test_a_backup_into_a_missing_directory_is_named(tmp_path: Path) -> None:
    _database(tmp_path)
    target = tmp_path / "nowhere" / "copy.sqlite3"
    result = _run(["db", "backup", str(target)], tmp_path)
    assert result.returncode == 3, result.stderr
    assert str(target) in result.stderr and "Traceback" not in result.stderr


def test_a_restore_onto_a_database_in_use_is_refused(tmp_path: Path) -> None:
    database = _database(tmp_path)
    assert _run(["db", "backup", str(tmp_path / "copy.sqlite3")], tmp_path).returncode == 0
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO scratch VALUES (1, 1, 'kept')")
    running = lease_for(f"sqlite:///{database}")  # as a running `tisserand run` holds it
    assert running.try_acquire()
    try:
        result = _run(["db", "restore", str(tmp_path / "copy.sqlite3")], tmp_path)
    finally:
        running.release()
    assert result.returncode == 1
    assert f"process {os.getpid()}" in result.stderr and "nothing was changed" in result.stderr
    assert _count(database) == ("ok", 1)


def test_a_restore_of_a_file_that_is_not_a_database_changes_nothing(tmp_path: Path) -> None:
    database = _database(tmp_path)
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database\n" * 100)
    result = _run(["db", "restore", str(junk)], tmp_path)
    assert result.returncode == 1
    assert "is not a Tisserand database" in result.stderr
    assert _count(database) == ("ok", 0)
    assert not list(database.parent.glob("*.before-restore-*"))


def test_on_postgresql_the_backup_says_to_use_pg_dump(database: Database, tmp_path: Path) -> None:
    if database.kind != "postgres":
        pytest.skip("PostgreSQL only")
    result = _run(
        ["db", "backup", str(tmp_path / "x")], tmp_path, TISSERAND_DATABASE_URL=database.url
    )
    assert result.returncode == 1
    assert "pg_dump" in result.stderr and "server version 1" in result.stderr
    assert not (tmp_path / "x").exists()


def test_json_logs_are_one_object_per_line_and_never_show_a_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = "tres-s3cret-du-bot"
    assert read_secret("ROCKETCHAT_PASSWORD", {"TISSERAND_ROCKETCHAT_PASSWORD": secret}) == secret
    setup_logging(True, "json")
    try:
        log = logging.getLogger("tisserand.test")
        log.warning("login with %s refused", secret)
        try:
            raise RuntimeError(f"password {secret} rejected")
        except RuntimeError:
            log.exception("failed")
    finally:
        setup_logging(False, "text")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["level"] for line in lines] == ["WARNING", "ERROR"]
    assert (
        lines[0]["message"] == "login with *** refused" and lines[0]["logger"] == "tisserand.test"
    )
    assert "RuntimeError: password *** rejected" in lines[1]["exc_info"]
    assert secret not in json.dumps(lines)


def test_the_json_log_format_option_of_the_command_line(tmp_path: Path) -> None:
    result = _run(["--log-format", "json", "-v", "db", "upgrade"], tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
