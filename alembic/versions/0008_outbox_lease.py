"""outbox claims with a lease

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00

A sender claims an outbox row for a limited time (``lease_until``) under its own name
(``claimed_by``); another sender takes a ``sending`` row only once its lease has expired, and a
result is recorded only by the claim that is still current (see bot/outbox.py). Rows already
``sending`` when the database is upgraded were claimed by a version without leases: their lease
is taken as expired at their last attempt time, so they are sent again (with the same token) as
before.
"""

from collections.abc import Sequence

import sqlalchemy as sa

import bot.storage.base
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("lease_until", bot.storage.base.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE outbox SET lease_until = next_attempt_at WHERE status = 'sending'")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
