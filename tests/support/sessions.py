"""What the sessions tests that work below the App (the direct path, the registrar) share:
their clock and notifier, members made in bulk, and what a test reads back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.i18n import Translators
from bot.storage.members import Member
from bot.storage.outbox import OutboxMessage
from bot.storage.sessions import Registration, SessionRow
from commands.sessions import Notifier, remind_due

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
START = NOW + timedelta(days=10)
NOTIFIER = Notifier(
    translators=Translators(ZoneInfo("Europe/Paris"), "fr"),
    network_locale="fr",
    network_name="Réseau",
    tz_name="Europe/Paris",
)


def make_members(
    engine: Engine,
    count: int,
    prefix: str,
    *,
    categories: list[str | None] | None = None,
    locales: list[str | None] | None = None,
) -> list[int]:
    """``count`` console members ``<prefix>0``...; categories and locales taken in turn."""
    with Session(engine) as db:
        rows = [
            Member(
                platform="console",
                user_id=f"{prefix}{i}",
                display_name=f"{prefix} {i}",
                category=categories[i % len(categories)] if categories else None,
                locale=locales[i % len(locales)] if locales else None,
                created_at=NOW,
                updated_at=NOW,
            )
            for i in range(count)
        ]
        db.add_all(rows)
        db.commit()
        return [row.id for row in rows]


def registrations(engine: Engine, session_id: int) -> list[Registration]:
    """The session's registrations in arrival order."""
    with Session(engine) as db:
        return list(
            db.scalars(
                select(Registration)
                .where(Registration.session_id == session_id)
                .order_by(Registration.arrival)
            )
        )


def session_row(engine: Engine, session_id: int) -> SessionRow:
    with Session(engine) as db:
        row = db.get(SessionRow, session_id)
        assert row is not None
        return row


def outbox_rows(engine: Engine, prefix: str = "") -> list[OutboxMessage]:
    """Outbox rows whose key starts with ``prefix``, by key."""
    with Session(engine) as db:
        return list(
            db.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.key.startswith(prefix))
                .order_by(OutboxMessage.key)
            )
        )


def write_due_reminders(engine: Engine, notifier: Notifier, at: datetime) -> None:
    """What the ``sessions`` provider does about reminders when it runs at ``at``."""
    with Session(engine) as db:
        remind_due(db, notifier, at)
        db.commit()
