"""One active breach per threshold rule: cases.active_rule, unique while the breach lasts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('active_rule', sa.String(length=200), nullable=True))
    op.create_index('uq_cases_active_rule', 'cases', ['active_rule'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_cases_active_rule', table_name='cases')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('active_rule')
