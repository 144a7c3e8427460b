"""What the environment refuses at start, explained with the key at fault (issue 21, item 7).

The real full disk is in tests/bot/test_cli.py (a tmpfs, when this machine lets us mount one);
here the operating system's ENOSPC and SQLite's SQLITE_FULL are simulated at the call that
reports them, so the explanations are checked everywhere.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import OperationalError

from bot import startup
from bot.config import explain, load_settings
from bot.i18n import Translators
from bot.startup import check_directory, start_error

FR = Translators(ZoneInfo("Europe/Paris")).get("fr")


def _french(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(key, explain(FR, problem)) for key, problem in problems]


def test_a_full_disk_under_the_output_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(_descriptor: int, _data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(startup.os, "write", full)
    out = tmp_path / "out"
    assert _french(check_directory(out, "console.out_dir")) == [
        ("console.out_dir", f"{out} : le disque est plein ; libérez de la place, puis réessayez")
    ]
    assert list(tmp_path.iterdir()) == [], "the check leaves nothing behind"


def test_the_output_directory_checks_change_nothing(tmp_path: Path) -> None:
    assert check_directory(tmp_path / "a" / "b", "--out") == []
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("x")
    assert _french(check_directory(tmp_path / "f" / "b", "--out")) == [
        ("--out", f"{tmp_path}/f/b : une partie de ce chemin est un fichier, pas un répertoire")
    ]


def test_sqlite_full_while_migrating(tmp_path: Path) -> None:
    settings = load_settings(None, environ={}, overrides={"data_dir": str(tmp_path / "data")})
    original = sqlite3.OperationalError("database or disk is full")
    original.sqlite_errorname = "SQLITE_FULL"  # type: ignore[attr-defined]
    error = start_error(settings, OperationalError("INSERT ...", {}, original))
    assert error is not None
    assert _french(error.problems) == [
        (
            "data_dir",
            f"le disque qui contient la base de données est plein ({tmp_path}/data/"
            "tisserand.sqlite3) : libérez de la place, puis réessayez",
        )
    ]


def test_a_bug_is_not_dressed_as_an_environment_problem(tmp_path: Path) -> None:
    settings = load_settings(None, environ={}, overrides={"data_dir": str(tmp_path)})
    assert start_error(settings, KeyError("x")) is None
    assert start_error(settings, BrokenPipeError(errno.EPIPE, "broken pipe")) is None
