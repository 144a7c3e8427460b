"""OPML import refuses what the fetcher's address guard would refuse (issue 21, item 7).

It accepted loopback and private addresses and promised they would be fetched; they then
failed until disabled. Literal addresses and ``localhost`` are refused at import, unless
``[feeds] allow_private_networks``; names are still resolved and checked when fetched.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import Attachment
from bot.storage.veille import FeedSource
from digests.opml import parse_opml
from tests.bot.test_cli import TISSERAND, _env
from tests.conftest import Database
from tests.support.chat import Chat

LOCAL = [
    "http://127.0.0.1/feed",
    "http://localhost:8080/rss",
    "http://feeds.localhost/rss",
    "http://[::1]/atom",
    "http://0x7f000001/rss",
    "http://2130706433/rss",
    "http://10.0.0.5/rss",
    "http://169.254.169.254/latest/meta-data",
    "http://[::ffff:127.0.0.1]/rss",
]
PUBLIC = ["https://www.ademe.fr/feed/", "http://8.8.8.8/rss"]


def _opml(urls: list[str]) -> bytes:
    outlines = "".join(
        f'<outline type="rss" text="f{i}" xmlUrl="{u}"/>' for i, u in enumerate(urls)
    )
    return f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'.encode()


def test_private_and_local_addresses_are_refused_at_import() -> None:
    outlines, invalid = parse_opml(_opml(LOCAL + PUBLIC))
    assert [o.url for o in outlines] == PUBLIC
    assert invalid == LOCAL


def test_the_configuration_may_allow_private_networks() -> None:
    outlines, invalid = parse_opml(_opml(LOCAL + PUBLIC), allow_private_networks=True)
    assert len(outlines) == len(LOCAL + PUBLIC) and invalid == []


@pytest.mark.asyncio
async def test_the_chat_import_does_not_promise_a_local_address(
    database: Database, tmp_path: Path
) -> None:
    chat = await Chat.start(database.url, tmp_path, feeds={"allow_private_networks": False})
    opml = Attachment("a.opml", "text/x-opml", _opml(["http://127.0.0.1/f", "http://[::1]/g"]))
    try:
        [reply] = await chat.command(
            "camille", "/veille importer", channel="veille", attachments=(opml,)
        )
        with chat.app.sessions() as db:
            assert db.scalars(select(FeedSource)).all() == []
    finally:
        await chat.stop()
    assert reply.text.splitlines()[1:] == [
        "2 adresses n'étaient pas des adresses web et ont été ignorées : http://127.0.0.1/f, "
        "http://[::1]/g."
    ]


def test_the_command_line_import_does_not_promise_a_local_address(tmp_path: Path) -> None:
    opml = tmp_path / "a.opml"
    opml.write_bytes(_opml(LOCAL + PUBLIC))
    result = subprocess.run(
        [TISSERAND, "veille", "import", str(opml), "--channel", "veille", "--platform", "console"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"2 flux ajoutés, 0 déjà présents, {len(LOCAL)} invalides.\n"
