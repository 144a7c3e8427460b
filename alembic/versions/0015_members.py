"""members: profiles, referents, erasure records, rounds of meetings

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 14:00:00

Profiles (organisation, territory, interests, presentation, visibility), the referents of each
theme, the record that a member's data was erased, and the rounds of meetings (participants,
schedule, rounds, the groups of each round with their check-in answers). New tables only.
"""

from collections.abc import Sequence

import sqlalchemy as sa

import bot.storage.base
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("held_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("checkin_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checkin_sent", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_rounds")),
    )
    with op.batch_alter_table("meeting_rounds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_rounds_checkin_at"), ["checkin_at"], unique=False
        )

    op.create_table(
        "member_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("erased_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_erasures")),
    )
    with op.batch_alter_table("member_erasures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_erasures_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "meeting_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("group_no", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("answered_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_meeting_groups_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["meeting_rounds.id"],
            name=op.f("fk_meeting_groups_round_id_meeting_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_groups")),
        sa.UniqueConstraint(
            "round_id", "member_id", name=op.f("uq_meeting_groups_round_id_member_id")
        ),
    )
    with op.batch_alter_table("meeting_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_groups_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_meeting_groups_round_id"), ["round_id"], unique=False)

    op.create_table(
        "meeting_participants",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("joined_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paused_until", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_meeting_participants_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_meeting_participants")),
    )
    with op.batch_alter_table("meeting_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_participants_platform"), ["platform"], unique=False
        )

    op.create_table(
        "meeting_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("next_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("every_weeks", sa.Integer(), nullable=False),
        sa.Column("fallback_channel_id", sa.String(length=128), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["members.id"],
            name=op.f("fk_meeting_schedules_created_by_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_schedules")),
        sa.UniqueConstraint("platform", name=op.f("uq_meeting_schedules_platform")),
    )
    op.create_table(
        "member_profiles",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("territory", sa.String(length=200), nullable=True),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("presentation", sa.String(length=500), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("updated_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_profiles_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_profiles")),
    )
    op.create_table(
        "member_referents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=100), nullable=False),
        sa.Column("theme_key", sa.String(length=100), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("named_by", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified_through", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_referents_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["named_by"],
            ["members.id"],
            name=op.f("fk_member_referents_named_by_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_referents")),
        sa.UniqueConstraint(
            "theme_key", "member_id", name=op.f("uq_member_referents_theme_key_member_id")
        ),
    )
    with op.batch_alter_table("member_referents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_referents_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_member_referents_theme_key"), ["theme_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("member_referents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_referents_theme_key"))
        batch_op.drop_index(batch_op.f("ix_member_referents_member_id"))

    op.drop_table("member_referents")
    op.drop_table("member_profiles")
    op.drop_table("meeting_schedules")
    with op.batch_alter_table("meeting_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_participants_platform"))

    op.drop_table("meeting_participants")
    with op.batch_alter_table("meeting_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_groups_round_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_groups_member_id"))

    op.drop_table("meeting_groups")
    with op.batch_alter_table("member_erasures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_erasures_member_id"))

    op.drop_table("member_erasures")
    with op.batch_alter_table("meeting_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_rounds_checkin_at"))

    op.drop_table("meeting_rounds")
