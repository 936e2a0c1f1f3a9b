"""ops heartbeat: when the sweep, the dispatcher, the backup and the health check last ran

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import subsidence.db.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ops_heartbeat',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('last_run_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_ok_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('every_s', sa.Integer(), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=120), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_ops_heartbeat'))
    )


def downgrade() -> None:
    op.drop_table('ops_heartbeat')
