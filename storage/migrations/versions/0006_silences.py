"""Silences of threshold rules and the breaches they kept quiet (SPEC §9); feedback gains an index on customer.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

# Spelled out, not imported from storage.models: a migration stays as it was written when models change.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "silences",
        sa.Column("id", BigId, nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("pattern", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(64), nullable=True),
        sa.Column("ended_source", sa.String(16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active_key", sa.String(270), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_silences"),
    )
    op.create_index("uq_silences_active_key", "silences", ["active_key"], unique=True)
    op.create_index(
        "ix_silences_team_ended_at_ends_at", "silences", ["team", "ended_at", "ends_at"]
    )
    op.create_index("ix_silences_ended_at_ends_at", "silences", ["ended_at", "ends_at"])
    op.create_table(
        "silenced_breaches",
        sa.Column("id", BigId, nullable=False),
        sa.Column("silence_id", BigId, nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("rule_key", sa.String(200), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("recovered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("open_key", sa.String(230), nullable=True),
        sa.ForeignKeyConstraint(
            ["silence_id"],
            ["silences.id"],
            name="fk_silenced_breaches_silence_id_silences",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_silenced_breaches"),
    )
    op.create_index("uq_silenced_breaches_open_key", "silenced_breaches", ["open_key"], unique=True)
    op.create_index("ix_silenced_breaches_silence_id", "silenced_breaches", ["silence_id"])
    op.create_index("ix_silenced_breaches_team_first_at", "silenced_breaches", ["team", "first_at"])
    # The customer view reads one customer's responses; on millions of rows this takes a while, once.
    op.create_index("ix_feedback_customer_submitted_at", "feedback", ["customer", "submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_customer_submitted_at", table_name="feedback")
    op.drop_table("silenced_breaches")
    op.drop_table("silences")
