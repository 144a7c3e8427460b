"""session reminders derived from registrations

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 09:00:00

Reminders are no longer written to the outbox at registration: the ``sessions`` due-work
provider writes them for the members confirmed when they fall due, and records on the session
how far it went (``reminded_through``, see bot/storage/sessions.py). Existing sessions start at
NULL: their reminders already in the outbox keep their keys, so none is written twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa

import bot.storage.base
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reminded_through", bot.storage.base.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("reminded_through")
