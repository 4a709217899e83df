"""Indexes for Slack delivery: storm grouping, grouped messages, a person's cases.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_channel_created_at'), ['channel', 'created_at'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_assignee_state'), ['assignee', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_slack_channel_slack_ts'), ['slack_channel', 'slack_ts'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_slack_channel_slack_ts'))
        batch_op.drop_index(batch_op.f('ix_cases_assignee_state'))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_channel_created_at'))
