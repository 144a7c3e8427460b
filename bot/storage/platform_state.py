"""What a chat platform keeps across restarts: how far it has read each room.

One row per platform and room (``platform_cursors``): the timestamp and id of the newest message
of that room the bot has finished handling. After a restart, the platform reads each room's
history from its cursor, so what was said while the bot was stopped is handled, and nothing
before the cursor runs twice.

One more row per platform, whose ``channel_id`` is :data:`LISTENING` (the empty string), records
when the platform's last run started listening. A room without a cursor row of its own (a direct
conversation opened while the bot was stopped, or a room where nobody spoke) had nothing handled
since that moment, so it is read from there. No such row means the platform never ran on this
database: nothing said before is replayed. That row's ``message_id`` is :data:`CLEAN_STOP` once
the run stopped cleanly (every message it handled is behind a stored cursor); None while it runs,
so after a crash the next run knows that messages past the cursors may have been handled.

Cursors only move forward: saving an older position than the stored one keeps the stored one.
The store is synchronous (SQLAlchemy sessions); platforms call it from a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from bot.storage.base import Base

LISTENING = ""
"""The ``channel_id`` of the row recording when the platform's last run started listening."""
CLEAN_STOP = "stopped"
"""The ``message_id`` of the :data:`LISTENING` row once that run stopped cleanly."""


class PlatformCursor(Base):
    __tablename__ = "platform_cursors"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    message_at: Mapped[datetime]
    """The server timestamp of the newest message handled in the room."""
    message_id: Mapped[str | None] = mapped_column(String(128), default=None)
    """That message's id (for the :data:`LISTENING` row: :data:`CLEAN_STOP` or None)."""
    updated_at: Mapped[datetime]


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a room's history: the newest message handled (aware UTC datetime)."""

    at: datetime
    message_id: str | None = None


class CursorStore:
    """Read and advance the cursors of one platform."""

    def __init__(self, sessions: sessionmaker[Session], platform: str) -> None:
        self._sessions = sessions
        self.platform = platform

    def load(self) -> dict[str, Cursor]:
        """Every stored cursor of the platform by channel id (:data:`LISTENING` included)."""
        with self._sessions() as db:
            rows = db.scalars(
                select(PlatformCursor).where(PlatformCursor.platform == self.platform)
            )
            return {row.channel_id: Cursor(row.message_at, row.message_id) for row in rows}

    def save(self, cursors: Mapping[str, Cursor], now: datetime) -> None:
        """Store ``cursors`` in one transaction; a cursor older than the stored one is ignored."""
        if not cursors:
            return
        with self._sessions() as db:
            existing = {
                row.channel_id: row
                for row in db.scalars(
                    select(PlatformCursor).where(
                        PlatformCursor.platform == self.platform,
                        PlatformCursor.channel_id.in_(list(cursors)),
                    )
                )
            }
            for channel_id, cursor in cursors.items():
                row = existing.get(channel_id)
                if row is None:
                    db.add(
                        PlatformCursor(
                            platform=self.platform,
                            channel_id=channel_id,
                            message_at=cursor.at,
                            message_id=cursor.message_id,
                            updated_at=now,
                        )
                    )
                elif cursor.at >= row.message_at:
                    row.message_at = cursor.at
                    row.message_id = cursor.message_id
                    row.updated_at = now
            db.commit()


__all__ = ["CLEAN_STOP", "LISTENING", "Cursor", "CursorStore", "PlatformCursor"]
