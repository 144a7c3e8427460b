"""A gazette of one day names that day once, not "du lundi 18 janvier au lundi 18 janvier"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import Database
from tests.support.chat import Chat, text_of

MORNING = datetime(2027, 1, 18, 8, 0, tzinfo=UTC)


@pytest.mark.asyncio
async def test_a_gazette_of_one_day_names_the_day_once(database: Database, tmp_path: Path) -> None:
    chat = await Chat.start(database.url, tmp_path, start=MORNING)
    try:
        await chat.command("camille", '/pepite "Nous avons planté 300 arbres"')
        text = text_of(await chat.command("camille", '/gazette brouillon --depuis "18 janvier"'))
        assert "lundi 18 janvier 2027" in text, text
        assert "au lundi 18 janvier" not in text, text
        assert text.count("lundi 18 janvier 2027") == 1, text
    finally:
        await chat.stop()
