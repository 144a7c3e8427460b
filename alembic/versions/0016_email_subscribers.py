"""email subscribers

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 13:53:03

Email delivery (issue 19): the people who receive the digest, the gazette and session
invitations by email (``email_subscribers``: address, choices, confirmation code, basis of the
subscription, bounces), the bodies shared by a mailing (``email_bodies``; one outbox row of
platform ``email`` per recipient names its body), and the journal of messages handed to the SMTP
server (``email_journal``), which keeps a restarted sender from sending one twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa

import bot.storage.base
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_bodies",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("list_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_email_bodies")),
    )
    op.create_table(
        "email_journal",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("handed_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_email_journal")),
    )
    op.create_table(
        "email_subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("wants_digest", sa.Boolean(), nullable=False),
        sa.Column("wants_gazette", sa.Boolean(), nullable=False),
        sa.Column("wants_sessions", sa.Boolean(), nullable=False),
        sa.Column("confirmed_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("codes_sent", sa.Integer(), nullable=False),
        sa.Column("unsubscribe_token", sa.String(length=64), nullable=False),
        sa.Column("bounces", sa.Integer(), nullable=False),
        sa.Column("disabled_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("created_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_email_subscribers_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_subscribers")),
        sa.UniqueConstraint("address", name=op.f("uq_email_subscribers_address")),
        sa.UniqueConstraint("member_id", name=op.f("uq_email_subscribers_member_id")),
        sa.UniqueConstraint(
            "unsubscribe_token", name=op.f("uq_email_subscribers_unsubscribe_token")
        ),
    )


def downgrade() -> None:
    op.drop_table("email_subscribers")
    op.drop_table("email_journal")
    op.drop_table("email_bodies")
