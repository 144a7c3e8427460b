"""``tisserand member export|erase NAME``: the coordinator's way for requests by email."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import build_cli
from bot.storage.members import Member
from bot.storage.profiles import MemberErasure, MemberProfile
from tests.conftest import Database
from tests.support.chat import Chat

pytestmark = pytest.mark.asyncio


def _invoke(database: Database, tmp_path: Path, *args: str) -> tuple[int, str]:
    runner = CliRunner()
    result = runner.invoke(
        build_cli("en"),
        [*args, "--database", database.url],
        env={"TISSERAND_DATA_DIR": str(tmp_path / "cli"), "TISSERAND_CONFIG": ""},
        catch_exceptions=False,
    )
    return result.exit_code, result.output


async def test_export_and_erase_from_the_command_line(
    chat: Chat, database: Database, tmp_path: Path
) -> None:
    await chat.command("alice", '/profil organisation "Mairie de Quokkaville"')
    await chat.command("bob", "/profil")
    code, output = _invoke(
        database, tmp_path, "member", "export", "@alice", "--out", str(tmp_path / "out")
    )
    assert code == 0, output
    [exported] = (tmp_path / "out").glob("*.json")
    data = json.loads(exported.read_text(encoding="utf-8"))
    assert data["families"]["profile"]["profile"]["organisation"] == "Mairie de Quokkaville"
    assert exported.with_suffix(".html").exists()

    code, output = _invoke(database, tmp_path, "member", "erase", "nobody", "--yes")
    assert code == 1
    assert "No member is called “nobody”" in output

    code, output = _invoke(database, tmp_path, "member", "erase", "Alice", "--yes")
    assert code == 0, output
    assert "Erased:" in output
    with chat.db() as db:
        assert db.scalars(select(Member).where(Member.user_id == "alice")).first() is None
        assert db.scalars(select(MemberProfile)).all() == []
        [record] = db.scalars(select(MemberErasure)).all()
        assert record.requested_by == "coordinator"
        assert db.scalars(select(Member.user_id).where(Member.user_id == "bob")).one() == "bob"
