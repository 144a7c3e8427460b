"""The platform table: every platform the configuration can name is in it, importing it stays
cheap, and a section no platform of the table reads fails at start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import runner
from bot.config import Problem, Settings, explain, load_settings
from bot.core import ConfigError
from bot.i18n import Translators
from bot.platforms import discord, rocketchat
from bot.wiring import PLATFORMS

ROOT = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path) -> Settings:
    return load_settings(
        None,
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "rocketchat": {"server_url": "http://127.0.0.1:9", "username": "tisserand"},
            "discord": {},
        },
    )


def test_the_table_holds_each_platform_once_in_start_order(tmp_path: Path) -> None:
    assert [kind.name for kind in PLATFORMS] == ["rocketchat", "discord"]
    assert PLATFORMS == (rocketchat.KIND, discord.KIND)
    assert rocketchat.KIND.name == rocketchat.PLATFORM
    assert discord.KIND.name == discord.PLATFORM
    # Every section the configuration knows is a platform of the table.
    assert set(_settings(tmp_path).platform_sections()) == {kind.name for kind in PLATFORMS}
    assert [k.name for k in runner.configured_kinds(_settings(tmp_path))] == [
        "rocketchat",
        "discord",
    ]


def test_a_section_no_platform_reads_fails_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "PLATFORMS", (rocketchat.KIND,))
    settings = _settings(tmp_path)
    with pytest.raises(ConfigError) as raised:
        runner.configured_kinds(settings)
    ((key, problem),) = raised.value.problems
    assert key == "discord"
    assert isinstance(problem, Problem)
    french = explain(Translators(ZoneInfo("Europe/Paris")).get("fr"), problem)
    assert french != problem.msgid  # translated through the catalogs
    with pytest.raises(ConfigError) as checked:
        runner.check_settings(settings)
    assert ("discord", problem) in checked.value.problems


def test_importing_the_table_does_not_load_the_client_libraries() -> None:
    """The console starts without discord.py, aiohttp or rocketchat_API."""
    probe = (
        "import sys, bot.wiring, bot.runner\n"
        "heavy = {'discord', 'aiohttp', 'rocketchat_API', 'requests', 'yarl'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
