"""the network's year: ideas box, questionnaires, session feedback comments

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 14:00:00

Ideas and their supports (one row per member and idea, the idea's ``supports`` counter kept with
them). Questionnaires, their questions, their recipients (how far each went) and their answers:
a random key, no timestamp, no member on anonymous ones, and no rowid on SQLite (see
``bot/storage/questionnaires.py``). A session's feedback comment is a questionnaire whose
``session_id`` is the session (unique).
"""

from collections.abc import Sequence

import sqlalchemy as sa

import bot.storage.base
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
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
        "questionnaires",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("intro", sa.Text(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=True),
        sa.Column("audience_ref", sa.String(length=128), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("deadline", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("max_reminders", sa.Integer(), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("launched_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "audience IS NULL OR audience IN ('channel', 'session', 'everyone')",
            name=op.f("ck_questionnaires_audience_known"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'open', 'closed')", name=op.f("ck_questionnaires_status_known")
        ),
        sa.CheckConstraint(
            "max_reminders >= 0", name=op.f("ck_questionnaires_max_reminders_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["members.id"],
            name=op.f("fk_questionnaires_created_by_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaires")),
        sa.UniqueConstraint("session_id", name=op.f("uq_questionnaires_session_id")),
    )
    with op.batch_alter_table("questionnaires", schema=None) as batch_op:
        batch_op.create_index(
            "ix_questionnaires_status_deadline", ["status", "deadline"], unique=False
        )

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

    op.create_table(
        "questionnaire_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("choices", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('scale', 'single', 'multiple', 'text')",
            name=op.f("ck_questionnaire_questions_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaires.id"],
            name=op.f("fk_questionnaire_questions_questionnaire_id_questionnaires"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_questions")),
    )
    with op.batch_alter_table("questionnaire_questions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_questionnaire_questions_position", ["questionnaire_id", "position"], unique=True
        )

    op.create_table(
        "questionnaire_recipients",
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("finished_at", bot.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded", sa.Integer(), nullable=False),
        sa.Column("invited_at", bot.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_questionnaire_recipients_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaires.id"],
            name=op.f("fk_questionnaire_recipients_questionnaire_id_questionnaires"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "questionnaire_id", "member_id", name=op.f("pk_questionnaire_recipients")
        ),
    )
    with op.batch_alter_table("questionnaire_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questionnaire_recipients_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "questionnaire_answers",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_questionnaire_answers_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questionnaire_questions.id"],
            name=op.f("fk_questionnaire_answers_question_id_questionnaire_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaires.id"],
            name=op.f("fk_questionnaire_answers_questionnaire_id_questionnaires"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_questionnaire_answers")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("questionnaire_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_questionnaire_answers_question", ["questionnaire_id", "question_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("questionnaire_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_questionnaire_answers_question")

    op.drop_table("questionnaire_answers")
    with op.batch_alter_table("questionnaire_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_recipients_member_id"))

    op.drop_table("questionnaire_recipients")
    with op.batch_alter_table("questionnaire_questions", schema=None) as batch_op:
        batch_op.drop_index("ix_questionnaire_questions_position")

    op.drop_table("questionnaire_questions")
    with op.batch_alter_table("idea_supports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_supports_member_id"))

    op.drop_table("idea_supports")
    with op.batch_alter_table("questionnaires", schema=None) as batch_op:
        batch_op.drop_index("ix_questionnaires_status_deadline")

    op.drop_table("questionnaires")
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_index("ix_ideas_created_at")

    op.drop_table("ideas")
