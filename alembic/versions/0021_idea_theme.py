"""idea theme

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 15:30:00

Ideas (issue 18, referents): an idea may carry one of the network's themes, ``ideas.theme``;
the theme's referents are told of it in their daily message.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("theme", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_column("theme")
