"""The deployment files, as far as this machine can run them (no container daemon, no registry,
systemd not PID 1): the systemd unit passes ``systemd-analyze verify`` and its offline security
review; the container's configuration loads; the Dockerfile's HEALTHCHECK command, run as it is
written, passes against a running bot's ``/healthz`` and fails when nothing answers; the image is
slim, runs as a non-root user and installs the wheel. What needs a daemon (building the image,
``docker compose up``) is left to docs/deployment.md."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.runner import run_platforms
from tests.conftest import Database

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "tisserand.service"
DOCKERFILE = ROOT / "Dockerfile"
TISSERAND = shutil.which("tisserand") or str(Path(sys.executable).with_name("tisserand"))


def _systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    return tool


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    tool = _systemd_analyze()
    unit = tmp_path / "tisserand.service"  # the same unit, started from this checkout's venv
    unit.write_text(UNIT.read_text().replace("/opt/tisserand/bin/tisserand", TISSERAND))
    result = subprocess.run(
        [tool, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "tisserand.service" not in result.stderr, result.stderr


def test_the_systemd_unit_is_hardened() -> None:
    tool = _systemd_analyze()
    text = UNIT.read_text()
    for setting in (
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/tisserand",
        "NoNewPrivileges=yes",
        "RestartPreventExitStatus=2 3",
    ):
        assert re.search(rf"^{re.escape(setting)}$", text, re.MULTILINE), setting
    result = subprocess.run(
        [tool, "security", "--offline=true", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for tisserand.service: ([\d.]+)", result.stdout)
    assert found, result.stdout + result.stderr
    assert float(found.group(1)) <= 2.0, result.stdout  # "OK" is below 2.0 on systemd's scale


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_image_is_slim_non_root_and_installs_the_wheel() -> None:
    steps = _instructions()
    bases = [args for op, args in steps if op == "FROM"]
    assert bases and all("-slim" in base for base in bases)
    final = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM") :]
    users = [args for op, args in final if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    runs = " ".join(args for op, args in final if op == "RUN")
    assert "--no-index --find-links /wheels tisserand" in runs
    assert any(op == "HEALTHCHECK" for op, _ in final)
    config = next(args for op, args in final if op == "COPY" and "container.toml" in args)
    assert config.split()[-1] == "/etc/tisserand/tisserand.toml"


def test_the_container_configuration_loads() -> None:
    settings = load_settings(ROOT / "deploy" / "container.toml", environ={})
    assert settings.web.enabled and settings.web.port == 8080


def _healthcheck(port: int) -> list[str]:
    args = next(a for op, a in _instructions() if op == "HEALTHCHECK")
    command = json.loads(args.split("CMD", 1)[1].strip())
    assert command[0] == "python"
    return [sys.executable, *[part.replace(":8080/", f":{port}/") for part in command[1:]]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.asyncio
async def test_the_healthcheck_passes_on_a_running_bot_and_fails_without_one(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if database.kind != "sqlite":
        pytest.skip("the database does not matter here")
    from tests.fakes.rocketchat import FakeRocketChat
    from tests.platforms.conftest import CHANNEL, RC_BOT, RC_PASSWORD

    port = _free_port()
    command = _healthcheck(port)

    async def check() -> int:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        return await process.wait()

    assert await check() != 0  # nothing listens yet
    monkeypatch.setenv("TISSERAND_ROCKETCHAT_PASSWORD", RC_PASSWORD)
    monkeypatch.delenv("TISSERAND_ROCKETCHAT_TOKEN", raising=False)
    server = FakeRocketChat(full_user_info_roles=("admin", "bot"))
    await server.start()
    server.add_user(RC_BOT, password=RC_PASSWORD, name="Tisserand", roles=("user", "bot"), bot=True)
    server.add_room(CHANNEL, members=[RC_BOT])
    settings = load_settings(
        None,
        database_url=database.url,
        environ={},
        overrides={
            "web": {"enabled": True, "port": port},
            "rocketchat": {"server_url": server.url, "username": RC_BOT, "channels": [CHANNEL]},
        },
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run_platforms(settings, stop=stop))
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while await check() != 0:
            assert not running.done(), running.result()
            assert asyncio.get_running_loop().time() < deadline, "the healthcheck never passed"
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.wait_for(running, 20)
        await server.close()
    assert await check() != 0  # stopped: unhealthy again
