"""gazette after an event: stable item numbers, reviews, PDF archive

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-02 14:00:00

``gazette_items.number`` is the number an item keeps in the draft list across refreshes and
moves (existing items are numbered in the order they were added); ``gazettes.include_published``
marks a review (``/gazette brouillon --tout``) that shows what earlier gazettes published;
``gazettes.pdf`` holds the A4 PDF beside the archived HTML.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gazette_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE gazette_items SET number = (SELECT count(*) FROM gazette_items AS earlier "
        "WHERE earlier.gazette_id = gazette_items.gazette_id AND earlier.id <= gazette_items.id)"
    )
    with op.batch_alter_table("gazettes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("include_published", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("pdf", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gazettes", schema=None) as batch_op:
        batch_op.drop_column("pdf")
        batch_op.drop_column("include_published")
    with op.batch_alter_table("gazette_items", schema=None) as batch_op:
        batch_op.drop_column("number")
