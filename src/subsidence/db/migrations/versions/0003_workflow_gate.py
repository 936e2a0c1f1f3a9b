"""rectification workflow and licence gate: deadline extensions, numbered 督办通知 and 不予受理告知书
(document_counter, refusal_notice), escalation kinds (deadline / milestone / acceptance), milestone evidence,
photo EXIF flags, gate answers with warnings and not-evaluable findings

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import subsidence.db.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_counter',
    sa.Column('series', sa.String(length=40), nullable=False),
    sa.Column('authority', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', 'authority', 'year', name=op.f('pk_document_counter'))
    )
    op.create_table('refusal_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('authority', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('gate_query_id', sa.Integer(), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('issued_date', sa.Date(), nullable=False),
    sa.Column('issued_by', sa.String(length=120), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['gate_query_id'], ['gate_query.id'], name=op.f('fk_refusal_notice_gate_query_id_gate_query')),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_refusal_notice_mine_id_mine')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refusal_notice')),
    sa.UniqueConstraint('authority', 'year', 'seq', name='uq_refusal_notice_authority_year_seq'),
    sa.UniqueConstraint('code', name=op.f('uq_refusal_notice_code')),
    sa.UniqueConstraint('gate_query_id', name=op.f('uq_refusal_notice_gate_query_id'))
    )
    op.create_table('deadline_extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('requested_date', sa.Date(), nullable=False),
    sa.Column('requested_by', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('previous_deadline', sa.Date(), nullable=False),
    sa.Column('requested_deadline', sa.Date(), nullable=False),
    sa.Column('decided_date', sa.Date(), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('granted_deadline', sa.Date(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_deadline_extension_problem_id_problem')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_extension')),
    sa.UniqueConstraint('problem_id', 'seq', name='uq_deadline_extension_problem_seq')
    )
    with op.batch_alter_table('acceptance_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag_note', sa.Text(), nullable=True))

    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='deadline', nullable=False))
        batch_op.add_column(sa.Column('subject', sa.String(length=40), server_default='deadline', nullable=False))
        batch_op.add_column(sa.Column('milestone_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('code', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reply_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('snapshot', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('outbox_key', sa.String(length=120), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_escalation_problem_level'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_escalation_code'), ['code'])
        batch_op.create_unique_constraint('uq_escalation_problem_subject_level', ['problem_id', 'subject', 'level'])
        batch_op.create_foreign_key(batch_op.f('fk_escalation_milestone_id_milestone'), 'milestone', ['milestone_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exif', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('flags', sa.JSON(), nullable=True))

    with op.batch_alter_table('gate_query', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('warnings', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('not_evaluable', sa.JSON(), nullable=True))

    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_ids', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('completed_by', sa.String(length=120), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_column('completed_by')
        batch_op.drop_column('evidence_ids')

    with op.batch_alter_table('gate_query', schema=None) as batch_op:
        batch_op.drop_column('not_evaluable')
        batch_op.drop_column('warnings')
        batch_op.drop_column('outcome')

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_column('flags')
        batch_op.drop_column('exif')

    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_escalation_milestone_id_milestone'), type_='foreignkey')
        batch_op.drop_constraint('uq_escalation_problem_subject_level', type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_escalation_code'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_escalation_problem_level'), ['problem_id', 'level'])
        batch_op.drop_column('outbox_key')
        batch_op.drop_column('snapshot')
        batch_op.drop_column('reply_due')
        batch_op.drop_column('seq')
        batch_op.drop_column('year')
        batch_op.drop_column('code')
        batch_op.drop_column('milestone_id')
        batch_op.drop_column('subject')
        batch_op.drop_column('kind')

    with op.batch_alter_table('acceptance_record', schema=None) as batch_op:
        batch_op.drop_column('flag_note')

    op.drop_table('deadline_extension')
    op.drop_table('refusal_notice')
    op.drop_table('document_counter')
