"""email notice recipient

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 15:10:00

Email (issue 19, follow-up to ``0016``): a notice that outlives its subscriber (the email that
confirms a removal) keeps its address on its body, ``email_bodies.recipient``.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("email_bodies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient", sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("email_bodies", schema=None) as batch_op:
        batch_op.drop_column("recipient")
