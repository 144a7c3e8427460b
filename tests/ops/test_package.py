"""The built package runs on its own: the sdist is built from the checkout, the wheel from the
unpacked sdist (so both must carry the migrations and the templates), the wheel is installed
into a fresh virtual environment outside the checkout, and its ``tisserand`` answers ``/aide``
on a new SQLite database.

The fresh environment gets Tisserand's dependencies from the test environment's
``site-packages`` through a path file (no network, no index), but not Tisserand itself: the
checkout's editable install is a path hook that a plain path entry does not run, which the test
checks by asking the installed interpreter where ``bot`` comes from.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300


def _run(
    args: list[str], cwd: Path, *, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    if env is None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TISSERAND_")}
        env.pop("PYTHONPATH", None)
    return subprocess.run(
        args,
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel), the wheel built from the unpacked sdist."""
    out = tmp_path_factory.mktemp("dist")
    code = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    name = _ok(_run([sys.executable, "-c", code, str(out)], ROOT)).stdout.strip().splitlines()[-1]
    sdist = out / name
    unpacked = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(sdist) as tar:
        tar.extractall(unpacked, filter="data")
    (source,) = unpacked.iterdir()
    wheels = tmp_path_factory.mktemp("wheels")
    _ok(
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "-q",
                "-w",
                str(wheels),
                str(source),
            ],
            unpacked,
        )
    )
    (wheel,) = wheels.glob("tisserand-*.whl")
    return sdist, wheel


def test_the_sdist_and_the_wheel_carry_migrations_templates_and_catalogs(
    built: tuple[Path, Path],
) -> None:
    sdist, wheel = built
    with tarfile.open(sdist) as tar:
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    revisions = sorted(p.name for p in (ROOT / "alembic" / "versions").glob("*.py"))
    assert revisions
    for revision in revisions:
        assert f"alembic/versions/{revision}" in in_sdist
    assert {"alembic/env.py", "alembic.ini", "setup.py"} <= in_sdist
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    for revision in revisions:
        assert f"bot/migrations/versions/{revision}" in in_wheel
    assert {"bot/migrations/env.py", "bot/migrations/script.py.mako"} <= in_wheel
    templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "digests/templates").rglob("*.j2")}
    assert templates and {t for t in templates if t.endswith(".j2")} <= in_wheel
    assert "bot/locale/fr/LC_MESSAGES/tisserand.po" in in_wheel


def test_the_wheel_installed_outside_the_checkout_answers_on_a_new_database(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    _, wheel = built
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        _ok(
            _run(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                tmp_path,
            )
        ).stdout.strip()
    )
    (site / "test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _ok(
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(python),
                "install",
                "-q",
                "--no-deps",
                "--no-index",
                str(wheel),
            ],
            tmp_path,
        )
    )
    where = _ok(_run([str(python), "-c", "import bot; print(bot.__file__)"], tmp_path))
    assert Path(where.stdout.strip()).is_relative_to(env_dir), where.stdout
    data = tmp_path / "data"
    result = _run(
        [str(env_dir / "bin" / "tisserand"), "console", "--out", str(tmp_path / "out")],
        tmp_path,
        input="/aide\n",
        env={
            "PATH": os.environ.get("PATH", ""),
            "LANG": "fr_FR.UTF-8",
            "TISSERAND_DATA_DIR": str(data),
        },
    )
    _ok(result)
    assert "/sondage" in result.stdout, result.stdout
    assert (data / "tisserand.sqlite3").exists()
    upgraded = _run(
        [str(env_dir / "bin" / "tisserand"), "db", "upgrade"],
        tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "LANG": "C", "TISSERAND_DATA_DIR": str(data)},
    )
    newest = sorted(p.name for p in (ROOT / "alembic" / "versions").glob("*.py"))[-1]
    assert newest.split("_", 1)[0] in _ok(upgraded).stdout
