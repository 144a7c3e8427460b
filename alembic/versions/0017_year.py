"""the network's year: ideas box, questionnaires, session feedback comments

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-02 14:00:00

Ideas and their supports (one row per member and idea, the idea's ``supports`` counter kept with
them).
"""

from collections.abc import Sequence

import sqlalchemy as sa

import bot.storage.base
from alembic import op

revision: str = "0017"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ideas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("status_changes", sa.Integer(), nullable=False),
        sa.Column("status_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("supports", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('proposed', 'accepted', 'in_progress', 'done', 'declined')",
            name=op.f("ck_ideas_status_known"),
        ),
        sa.CheckConstraint("supports >= 0", name=op.f("ck_ideas_supports_not_negative")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["members.id"],
            name=op.f("fk_ideas_author_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ideas")),
    )
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.create_index("ix_ideas_created_at", ["created_at"], unique=False)

    op.create_table(
        "idea_supports",
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["ideas.id"],
            name=op.f("fk_idea_supports_idea_id_ideas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_idea_supports_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idea_id", "member_id", name=op.f("pk_idea_supports")),
    )
    with op.batch_alter_table("idea_supports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_supports_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idea_supports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_supports_member_id"))

    op.drop_table("idea_supports")
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_index("ix_ideas_created_at")

    op.drop_table("ideas")
