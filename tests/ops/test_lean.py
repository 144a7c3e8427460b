"""Heavy libraries load when first needed: a piped console session answering ``/aide`` (the
path of ``tisserand run`` without a platform) never imports the HTTP client stack (httpx, and
Rich that its command line pulls in when installed), RE2, APScheduler, the platforms' libraries,
the metrics or the JSON logger; nor Alembic on a database already at the newest revision, nor
SQLAlchemy's PostgreSQL dialect on SQLite. Then a
filter and a fetch do load RE2 and httpx, so the test would see a module that silently stopped
being used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.bot.test_cli import _env

NEVER_AT_START = (
    "httpx",
    "httpcore",
    "rich",
    "re2",
    "apscheduler",
    "discord",
    "aiohttp",
    "rocketchat_API",
    "prometheus_client",
    "pythonjsonlogger",
    "feedparser",
    "pygal",
)

_PROBE = """
import atexit, json, sys
out = sys.argv.pop(1)
def dump():
    with open(out, "w") as f:
        json.dump(sorted(sys.modules), f)
atexit.register(dump)
from bot.cli import main
sys.argv = ["tisserand", *sys.argv[1:]]
main()
"""


def _modules_after(tmp_path: Path, args: list[str], stdin: str) -> set[str]:
    out = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(out.read_text()))


def test_a_piped_console_session_loads_no_heavy_library_it_does_not_use(tmp_path: Path) -> None:
    args = ["console", "--out", str(tmp_path / "out")]
    _modules_after(tmp_path, args, "/aide\n")  # first start: migrates (Alembic), as it must
    modules = _modules_after(tmp_path, args, "/aide\n")
    loaded = {name.split(".")[0] for name in modules}
    assert "sqlalchemy" in loaded and "bot" in loaded  # the probe saw the session
    assert sorted(loaded & set(NEVER_AT_START)) == []
    assert "alembic" not in loaded
    assert "sqlalchemy.dialects.postgresql" not in modules  # on SQLite


def test_the_deferred_libraries_load_when_used(tmp_path: Path) -> None:
    probe = (
        "import sys, asyncio\n"
        "from digests.filters import compile_regex\n"
        "assert 're2' not in sys.modules\n"
        "assert compile_regex('vélo|mobilité')('Plan Vélo')\n"
        "assert 're2' in sys.modules\n"
        "from commands.veille.refresh import fetch_policy\n"
        "from bot.config import Settings\n"
        "assert 'httpx' not in sys.modules\n"
        "fetch_policy(Settings())\n"
        "assert 'httpx' in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
