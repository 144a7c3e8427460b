"""live session announcements

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-02 08:00:00

A session's announcement is edited when what it says changes (seats, waiting list, quotas,
status), like the live results of a poll: ``revision`` is raised by every such change,
``rendered_revision`` is the one the announcement shows, ``rendered_at`` when it was last edited
(edits are throttled) and ``edit_failures`` how many edits in a row the platform refused. Existing
sessions start as rendered: their announcement is edited at their next change.
"""

from collections.abc import Sequence

import sqlalchemy as sa

import bot.storage.base
from alembic import op

revision: str = "0012"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("rendered_revision", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("rendered_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("edit_failures", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("edit_failures")
        batch_op.drop_column("rendered_at")
        batch_op.drop_column("rendered_revision")
        batch_op.drop_column("revision")
