"""The ``privacy`` due work: what passed its ``[privacy]`` retention is deleted, nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import load_settings
from bot.core import ConfigError
from bot.storage.highlights import RecentMessage
from bot.storage.outbox import OutboxMessage
from bot.storage.platform_state import PlatformCursor
from bot.storage.veille import ENTRY_FEED, ENTRY_SHARE, FeedEntry
from tests.support.chat import Chat


def _entry(kind: str, key: str, chat: Chat) -> FeedEntry:
    return FeedEntry(
        kind=kind,
        platform="console",
        channel_id="general",
        entry_key=key,
        content_hash=key,
        title=key,
        created_at=chat.clock.now(),
    )


@pytest.mark.asyncio
async def test_old_data_is_purged_on_schedule(chat: Chat) -> None:
    await chat.command("alice", "/rencontres rejoindre")
    await chat.command("bob", "/rencontres rejoindre")
    await chat.command("camille", "/rencontres lancer")  # two direct messages, sent
    await chat.say("alice", "Un message de canal")  # remembered for /pepite
    now = chat.clock.now()
    with chat.db() as db:
        db.add(_entry(ENTRY_FEED, "feed-entry", chat))
        db.add(_entry(ENTRY_SHARE, "shared-link", chat))
        db.add(
            PlatformCursor(
                platform="console", channel_id="old-room", message_at=now, updated_at=now
            )
        )
        db.commit()
    with chat.db() as db:
        assert db.scalars(select(RecentMessage)).all() != []

    await chat.advance(timedelta(hours=49))
    with chat.db() as db:
        assert db.scalars(select(RecentMessage)).all() == []
        assert len(db.scalars(select(FeedEntry)).all()) == 2
    await chat.advance(timedelta(days=90))
    with chat.db() as db:
        direct = list(
            db.scalars(select(OutboxMessage).where(OutboxMessage.target_kind == "direct"))
        )
        assert [row.key for row in direct if ":intro:" in row.key] == []  # 92 days old: gone
        assert all(row.key.startswith("meet:1:checkin:") for row in direct)  # 85 days: kept
        assert len(direct) == 2
        assert (
            db.scalars(select(PlatformCursor).where(PlatformCursor.channel_id == "old-room")).all()
            == []
        )
        assert len(db.scalars(select(FeedEntry)).all()) == 2
    await chat.advance(timedelta(days=90))
    with chat.db() as db:
        kinds = [entry.kind for entry in db.scalars(select(FeedEntry))]
    assert kinds == [ENTRY_SHARE]  # the shared link stays, the feed's entry is gone


def test_retention_is_configured() -> None:
    settings = load_settings(None, environ={}, overrides={"privacy": {"feed_entries_days": 30}})
    assert settings.privacy.feed_entries_days == 30
    with pytest.raises(ConfigError, match="feed_entries_days"):
        load_settings(None, environ={}, overrides={"privacy": {"feed_entries_days": 1}})
