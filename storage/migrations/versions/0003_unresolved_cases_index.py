"""Partial index of unresolved cases per team, for open lists among many resolved cases.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

UNRESOLVED = sa.text("state IN ('open', 'acknowledged')")


def upgrade() -> None:
    op.create_index('ix_cases_unresolved_team_opened_at', 'cases', ['team', 'opened_at', 'id'], unique=False,
                    sqlite_where=UNRESOLVED, postgresql_where=UNRESOLVED)


def downgrade() -> None:
    op.drop_index('ix_cases_unresolved_team_opened_at', table_name='cases')
