"""organisation: positions of the leading group and its office, their holders (tenures) and duties

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import subsidence.db.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_TS = {'server_default': sa.text('(CURRENT_TIMESTAMP)'), 'nullable': False}


def upgrade() -> None:
    op.create_table('org_position',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Enum('leading_group', 'office', name='orgbody', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('rank', sa.Enum('leader', 'deputy', 'member', 'office_head', 'office_staff', name='positionrank', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('title_zh', sa.String(length=60), nullable=False),
    sa.Column('ex_officio', sa.String(length=120), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=200), nullable=True),
    sa.Column('established', sa.Date(), nullable=False),
    sa.Column('abolished', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), **_TS),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), **_TS),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_org_position_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_position')),
    sa.UniqueConstraint('code', name=op.f('uq_org_position_code'))
    )
    op.create_table('org_position_holder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position_id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('document', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), **_TS),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), **_TS),
    sa.ForeignKeyConstraint(['position_id'], ['org_position.id'], name=op.f('fk_org_position_holder_position_id_org_position')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_org_position_holder_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_position_holder'))
    )
    op.create_table('org_position_duty',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position_id', sa.Integer(), nullable=False),
    sa.Column('power', sa.Enum('lead', 'cooperate', 'direct', 'schedule', 'aggregate', 'report', 'liaise', 'supervise', 'review', 'accept', name='positionpower', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('task_no', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['position_id'], ['org_position.id'], name=op.f('fk_org_position_duty_position_id_org_position')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_position_duty')),
    sa.UniqueConstraint('position_id', 'power', 'task_no', name='uq_org_position_duty')
    )


def downgrade() -> None:
    op.drop_table('org_position_duty')
    op.drop_table('org_position_holder')
    op.drop_table('org_position')
