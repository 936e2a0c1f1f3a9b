"""tasks: the lead bureau's fund-entry review and the publication sign-off, building photos

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

import subsidence.db.types
from subsidence.db.ddl import append_only, drop_append_only

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ('fund_entry_review', 'publication', 'building_photo')


def upgrade() -> None:
    op.create_table('fund_entry_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reviewer', sa.String(length=120), nullable=False),
    sa.Column('reviewer_unit_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['fund_entry.id'], name=op.f('fk_fund_entry_review_entry_id_fund_entry')),
    sa.ForeignKeyConstraint(['reviewer_unit_id'], ['unit.id'], name=op.f('fk_fund_entry_review_reviewer_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_entry_review')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_fund_entry_review_entry_id'))
    )
    op.create_table('publication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('signed_by', sa.String(length=120), nullable=False),
    sa.Column('signed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['signed_by_user_id'], ['user_account.id'], name=op.f('fk_publication_signed_by_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication')),
    sa.UniqueConstraint('kind', 'scope', 'version', name='uq_publication_kind_scope_version')
    )
    op.create_table('building_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=60), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('storage_path', sa.String(length=300), nullable=False),
    sa.Column('uploaded_by', sa.String(length=120), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['compensated_building.id'], name=op.f('fk_building_photo_building_id_compensated_building')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_building_photo')),
    sa.UniqueConstraint('building_id', 'sha256', name='uq_building_photo_building_sha256')
    )
    op.create_index(op.f('ix_building_photo_building_id'), 'building_photo', ['building_id'], unique=False)
    for table in TABLES:
        append_only(table)


def downgrade() -> None:
    for table in TABLES:
        drop_append_only(table)
    op.drop_index(op.f('ix_building_photo_building_id'), table_name='building_photo')
    op.drop_table('building_photo')
    op.drop_table('publication')
    op.drop_table('fund_entry_review')
