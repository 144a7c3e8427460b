"""platform cursors

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:00:00

How far a chat platform has read each room, so that what was said while the bot was stopped is
handled after a restart, and nothing runs twice (see bot/storage/platform_state.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa

import bot.storage.base
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_cursors",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("message_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=True),
        sa.Column("updated_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "channel_id", name=op.f("pk_platform_cursors")),
    )


def downgrade() -> None:
    op.drop_table("platform_cursors")
