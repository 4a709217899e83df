"""Corrective actions and their timeline; cases gain customer, category and action_id (SPEC §8).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

# Spelled out, not imported from storage.models: a migration stays as it was written when models change.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corrective_actions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("cause", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("live_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("metric", sa.String(8), nullable=True),
        sa.Column("touchpoints", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("verification", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slack_channel", sa.String(32), nullable=True),
        sa.Column("slack_ts", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_corrective_actions"),
    )
    for cols in (["team", "state"], ["state", "live_at"], ["owner", "state"], ["cause", "state"]):
        op.create_index(f"ix_corrective_actions_{'_'.join(cols)}", "corrective_actions", cols)
    op.create_table(
        "action_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("action_id", BigId, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["corrective_actions.id"],
            name="fk_action_events_action_id_corrective_actions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_action_events"),
    )
    op.create_index("ix_action_events_action_id_id", "action_events", ["action_id", "id"])
    # Plain ADD COLUMN on every backend: SQLite's batch mode would rebuild the table of cases.
    op.add_column("cases", sa.Column("customer", sa.String(200), nullable=True))
    op.add_column("cases", sa.Column("category", sa.String(64), nullable=True))
    op.add_column("cases", sa.Column("action_id", BigId, nullable=True))
    op.create_index("ix_cases_customer_opened_at", "cases", ["customer", "opened_at"])
    op.create_index("ix_cases_category_team_opened_at", "cases", ["category", "team", "opened_at"])
    op.create_index("ix_cases_action_id", "cases", ["action_id"])


def downgrade() -> None:
    op.drop_index("ix_cases_action_id", table_name="cases")
    op.drop_index("ix_cases_category_team_opened_at", table_name="cases")
    op.drop_index("ix_cases_customer_opened_at", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("action_id")
        batch.drop_column("category")
        batch.drop_column("customer")
    op.drop_table("action_events")
    op.drop_table("corrective_actions")
