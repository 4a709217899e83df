"""Cases gain the segment their SLA follows (SPEC §9), backfilled from their feedback.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _key(segment: str) -> str | None:
    # Spelled out, not imported from config.fields.segment_key: a migration stays as it was written.
    return segment.strip().lower() or None


def upgrade() -> None:
    # Plain ADD COLUMN on every backend: SQLite's batch mode would rebuild the table of cases.
    op.add_column("cases", sa.Column("segment", sa.String(200), nullable=True))
    # Cases opened before now take their feedback's segment, as opening copies it from now on; a case whose
    # feedback retention purged has none left to take (it is long resolved). Only rows with a segment are
    # written: on PostgreSQL every updated row is a new row version.
    op.execute(
        "UPDATE cases SET segment = ("
        "SELECT lower(trim(feedback.segment)) FROM feedback WHERE feedback.id = cases.feedback_id"
        ") WHERE EXISTS (SELECT 1 FROM feedback"
        " WHERE feedback.id = cases.feedback_id AND feedback.segment IS NOT NULL)"
    )
    # SQLite's lower() folds ASCII letters only, and trim() takes spaces only: Python finishes the key over
    # the few distinct values, so every case matches the YAML's names as new cases do.
    conn = op.get_bind()
    values = conn.execute(sa.text("SELECT DISTINCT segment FROM cases WHERE segment IS NOT NULL"))
    for (value,) in values.all():
        if _key(value) != value:
            conn.execute(
                sa.text("UPDATE cases SET segment = :key WHERE segment = :value"),
                {"key": _key(value), "value": value},
            )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("segment")
