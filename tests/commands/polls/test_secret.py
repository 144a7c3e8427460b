"""The server secret of anonymous polls (commands/polls/secret.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from commands.polls.secret import server_secret


def test_the_secret_can_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(None, environ={}, overrides={"data_dir": str(tmp_path)})
    monkeypatch.setenv("TISSERAND_SECRET_KEY", "k" * 40)
    assert server_secret(settings) == b"k" * 40
    assert not (tmp_path / "secret.key").exists()
    monkeypatch.delenv("TISSERAND_SECRET_KEY")
    first = server_secret(settings)
    assert len(first) == 64 and server_secret(settings) == first
