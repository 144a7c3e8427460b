"""highlights, consent, gazettes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import bot.storage.base
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "highlights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=True),
        sa.Column("channel_name", sa.String(length=200), nullable=True),
        sa.Column("message_id", sa.String(length=128), nullable=True),
        sa.Column("link", sa.String(length=1000), nullable=True),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("said_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("consent", sa.String(length=16), nullable=False),
        sa.Column("consent_asked_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("consent_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["members.id"], name=op.f("fk_highlights_author_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["members.id"], name=op.f("fk_highlights_recorded_by_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_highlights")),
        sa.UniqueConstraint(
            "platform",
            "channel_id",
            "message_id",
            name=op.f("uq_highlights_platform_channel_id_message_id"),
        ),
    )
    with op.batch_alter_table("highlights", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_highlights_consent"), ["consent"], unique=False)
        batch_op.create_index(batch_op.f("ix_highlights_said_at"), ["said_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_highlights_session_id"), ["session_id"], unique=False)

    op.create_table(
        "highlight_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("highlight_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("source_url", sa.String(length=2000), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["highlight_id"],
            ["highlights.id"],
            name=op.f("fk_highlight_images_highlight_id_highlights"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_highlight_images")),
    )
    with op.batch_alter_table("highlight_images", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_highlight_images_highlight_id"), ["highlight_id"], unique=False
        )

    op.create_table(
        "highlight_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_highlight_votes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_highlight_votes")),
        sa.UniqueConstraint(
            "platform",
            "channel_id",
            "message_id",
            "member_id",
            name=op.f("uq_highlight_votes_platform_channel_id_message_id_member_id"),
        ),
    )

    op.create_table(
        "highlight_recent_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("channel_name", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("said_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["members.id"],
            name=op.f("fk_highlight_recent_messages_author_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_highlight_recent_messages")),
        sa.UniqueConstraint(
            "platform",
            "channel_id",
            "message_id",
            name=op.f("uq_highlight_recent_messages_platform_channel_id_message_id"),
        ),
    )
    with op.batch_alter_table("highlight_recent_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_highlight_recent_messages_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_highlight_recent_messages_said_at"), ["said_at"], unique=False
        )

    op.create_table(
        "consent_preferences",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("never_ask", sa.Boolean(), nullable=False),
        sa.Column("updated_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_consent_preferences_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_consent_preferences")),
    )

    op.create_table(
        "gazettes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("since", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("until", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("editorial", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("channel_id", sa.String(length=128), nullable=True),
        sa.Column("html", sa.LargeBinary(), nullable=True),
        sa.Column("rebuilt_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_items", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["members.id"], name=op.f("fk_gazettes_created_by_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gazettes")),
    )
    with op.batch_alter_table("gazettes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gazettes_status"), ["status"], unique=False)

    op.create_table(
        "gazette_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gazette_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("dropped", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["gazette_id"],
            ["gazettes.id"],
            name=op.f("fk_gazette_items_gazette_id_gazettes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gazette_items")),
        sa.UniqueConstraint(
            "gazette_id", "kind", "ref_id", name=op.f("uq_gazette_items_gazette_id_kind_ref_id")
        ),
    )
    with op.batch_alter_table("gazette_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gazette_items_gazette_id"), ["gazette_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("gazette_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gazette_items_gazette_id"))
    op.drop_table("gazette_items")
    with op.batch_alter_table("gazettes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gazettes_status"))
    op.drop_table("gazettes")
    op.drop_table("consent_preferences")
    with op.batch_alter_table("highlight_recent_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_highlight_recent_messages_said_at"))
        batch_op.drop_index(batch_op.f("ix_highlight_recent_messages_message_id"))
    op.drop_table("highlight_recent_messages")
    op.drop_table("highlight_votes")
    with op.batch_alter_table("highlight_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_highlight_images_highlight_id"))
    op.drop_table("highlight_images")
    with op.batch_alter_table("highlights", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_highlights_session_id"))
        batch_op.drop_index(batch_op.f("ix_highlights_said_at"))
        batch_op.drop_index(batch_op.f("ix_highlights_consent"))
    op.drop_table("highlights")
