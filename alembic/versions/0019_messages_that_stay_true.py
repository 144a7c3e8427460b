"""issue 15: ungraded options of majority judgment; a feed source's category map

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-02 14:00:00

Until now an option a voter left ungraded counted as the lowest grade, and the poll message said
so. New polls count it that way only when created with ``--sans-mention-au-plus-bas``; otherwise
an option is judged by those who graded it. Existing judgment polls keep the rule they were
announced with.

``feed_sources.theme_map``: a source's own entry categories mapped to network themes, one
``category=Theme`` per line.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ungraded_worst", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("feed_sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("theme_map", sa.Text(), nullable=True))
    op.execute(
        sa.text("UPDATE polls SET ungraded_worst = :yes WHERE mode = 'judgment'").bindparams(
            yes=True
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("feed_sources", schema=None) as batch_op:
        batch_op.drop_column("theme_map")
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_column("ungraded_worst")
