"""initial schema

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa
import subsidence.db.types
from subsidence.db import ddl

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    ddl.before_schema()
    op.create_table('admin_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('level', sa.Enum('banner', 'town', 'village', name='arealevel', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('geometry', subsidence.db.types.Geometry('MULTIPOLYGON', srid=4546), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['admin_area.id'], name=op.f('fk_admin_area_parent_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_area')),
    sa.UniqueConstraint('code', name=op.f('uq_admin_area_code'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('entity', sa.String(length=60), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('entity_key', sa.String(length=120), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('census_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('census_date', sa.Date(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('source_file', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('raster_crs', sa.String(length=80), nullable=True),
    sa.Column('pixel_size_m', sa.Float(), nullable=True),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=True),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('n_areas', sa.Integer(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_census_run')),
    sa.UniqueConstraint('code', name=op.f('uq_census_run_code'))
    )
    op.create_table('enterprise',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('contact_role', sa.String(length=100), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_enterprise_credit_code'))
    )
    op.create_table('ingest_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('received_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=True),
    sa.Column('n_rows', sa.Integer(), nullable=False),
    sa.Column('n_accepted', sa.Integer(), nullable=False),
    sa.Column('n_duplicate', sa.Integer(), nullable=False),
    sa.Column('n_rejected', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.JSON(), nullable=True),
    sa.Column('warnings', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_batch'))
    )
    op.create_table('notice_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_notice_counter'))
    )
    op.create_table('review_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('confirm', 'reject', 'merge', 'split', name='reviewaction', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('area_codes', sa.JSON(), nullable=False),
    sa.Column('result_codes', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reviewer', sa.String(length=120), nullable=False),
    sa.Column('decided_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('meeting', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_decision'))
    )
    op.create_table('mine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('licence_no', sa.String(length=60), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('licence_valid_from', sa.Date(), nullable=True),
    sa.Column('licence_valid_to', sa.Date(), nullable=True),
    sa.Column('capacity_mt_per_yr', sa.Float(), nullable=True),
    sa.Column('mining_method', sa.Enum('underground_backfill', 'underground_no_subsidence', 'underground_subsidence', 'surface', name='miningmethod', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('status', sa.Enum('producing', 'construction', 'suspended', 'closed', name='minestatus', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('geometry', subsidence.db.types.Geometry('MULTIPOLYGON', srid=4546), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_mine_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['town_id'], ['admin_area.id'], name=op.f('fk_mine_town_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mine')),
    sa.UniqueConstraint('licence_no', name=op.f('uq_mine_licence_no'))
    )
    with op.batch_alter_table('mine', schema=None) as batch_op:
        batch_op.create_index('ix_web_mine_enterprise', ['enterprise_id'], unique=False)

    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('kind', sa.Enum('office', 'bureau', 'town', 'centre', 'enterprise', name='unitkind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_unit_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['town_id'], ['admin_area.id'], name=op.f('fk_unit_town_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('code', name=op.f('uq_unit_code'))
    )
    op.create_table('assessment_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=6, scale=2, asdecimal=False), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('listing', sa.String(length=20), nullable=True),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('computed_on', sa.Date(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_assessment_score_mine_id_mine')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_score')),
    sa.UniqueConstraint('year', 'mine_id', name='uq_assessment_score_year_mine')
    )
    op.create_table('compensated_building',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('household_code', sa.String(length=60), nullable=True),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('village', sa.String(length=100), nullable=True),
    sa.Column('mine_id', sa.Integer(), nullable=True),
    sa.Column('compensated', sa.Boolean(), nullable=False),
    sa.Column('compensation_date', sa.Date(), nullable=True),
    sa.Column('compensation_yuan', sa.Float(), nullable=True),
    sa.Column('compensation_record', sa.String(length=200), nullable=True),
    sa.Column('resettled', sa.Boolean(), nullable=False),
    sa.Column('reoccupied', sa.Boolean(), nullable=False),
    sa.Column('demolition_status', sa.Enum('not_started', 'in_progress', 'demolished', name='demolitionstatus', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('demolished_date', sa.Date(), nullable=True),
    sa.Column('geometry', subsidence.db.types.Geometry('GEOMETRY', srid=4546), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('stability', sa.Enum('not_started', 'active', 'declining', 'stable', name='movementstage', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_compensated_building_mine_id_mine')),
    sa.ForeignKeyConstraint(['town_id'], ['admin_area.id'], name=op.f('fk_compensated_building_town_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compensated_building')),
    sa.UniqueConstraint('code', name=op.f('uq_compensated_building_code'))
    )
    op.create_table('fund_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('bank_account', sa.String(length=80), nullable=True),
    sa.Column('opened', sa.Date(), nullable=True),
    sa.Column('method_key', sa.String(length=60), nullable=True),
    sa.Column('land_type', sa.String(length=40), nullable=False),
    sa.Column('region_key', sa.String(length=40), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_fund_account_mine_id_mine')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_account')),
    sa.UniqueConstraint('code', name=op.f('uq_fund_account_code')),
    sa.UniqueConstraint('mine_id', name=op.f('uq_fund_account_mine_id'))
    )
    op.create_table('gate_query',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('application', sa.String(length=40), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_gate_query_mine_id_mine')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gate_query'))
    )
    with op.batch_alter_table('gate_query', schema=None) as batch_op:
        batch_op.create_index('ix_gate_query_mine', ['mine_id', 'at'], unique=False)

    op.create_table('groundwater_well',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('mine_id', sa.Integer(), nullable=True),
    sa.Column('aquifer', sa.String(length=100), nullable=True),
    sa.Column('well_depth_m', sa.Float(), nullable=True),
    sa.Column('baseline_depth_to_water_m', sa.Float(), nullable=True),
    sa.Column('geometry', subsidence.db.types.Geometry('POINT', srid=4546), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_groundwater_well_mine_id_mine')),
    sa.ForeignKeyConstraint(['town_id'], ['admin_area.id'], name=op.f('fk_groundwater_well_town_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groundwater_well')),
    sa.UniqueConstraint('code', name=op.f('uq_groundwater_well_code'))
    )
    op.create_table('hazard_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('hazard_type', sa.Enum('landslide', 'collapse', 'debris_flow', 'ground_fissure', 'subsidence_pit', 'road_collapse', name='hazardtype', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('mine_id', sa.Integer(), nullable=True),
    sa.Column('village', sa.String(length=100), nullable=True),
    sa.Column('scale', sa.String(length=20), nullable=True),
    sa.Column('volume_m3', sa.Float(), nullable=True),
    sa.Column('triggers', sa.String(length=200), nullable=True),
    sa.Column('stability', sa.String(length=40), nullable=True),
    sa.Column('threatened_households', sa.Integer(), nullable=False),
    sa.Column('threatened_people', sa.Integer(), nullable=False),
    sa.Column('threatened_property_10k_yuan', sa.Float(), nullable=False),
    sa.Column('monitoring_method', sa.String(length=200), nullable=True),
    sa.Column('monitoring_frequency', sa.String(length=100), nullable=True),
    sa.Column('responsible_role', sa.String(length=200), nullable=True),
    sa.Column('monitor_role', sa.String(length=200), nullable=True),
    sa.Column('warning_signal', sa.String(length=200), nullable=True),
    sa.Column('warning_giver_role', sa.String(length=200), nullable=True),
    sa.Column('rescue_unit', sa.String(length=200), nullable=True),
    sa.Column('geometry', subsidence.db.types.Geometry('POINT', srid=4546), nullable=True),
    sa.Column('extent', subsidence.db.types.Geometry('POLYGON', srid=4546), nullable=True),
    sa.Column('evacuation_route', subsidence.db.types.Geometry('LINESTRING', srid=4546), nullable=True),
    sa.Column('shelter', subsidence.db.types.Geometry('POINT', srid=4546), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('people_to_relocate', sa.Integer(), nullable=True),
    sa.Column('danger_grade', sa.String(length=4), nullable=True),
    sa.Column('location_text', sa.String(length=300), nullable=True),
    sa.Column('evacuation_route_text', sa.String(length=300), nullable=True),
    sa.Column('shelter_name', sa.String(length=200), nullable=True),
    sa.Column('rescue_unit_phone', sa.String(length=40), nullable=True),
    sa.Column('warning_level', sa.String(length=10), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_hazard_point_mine_id_mine')),
    sa.ForeignKeyConstraint(['town_id'], ['admin_area.id'], name=op.f('fk_hazard_point_town_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard_point')),
    sa.UniqueConstraint('code', name=op.f('uq_hazard_point_code'))
    )
    with op.batch_alter_table('hazard_point', schema=None) as batch_op:
        batch_op.create_index('ix_web_hazard_point_town', ['town_id'], unique=False)

    op.create_table('inspection_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('lead_unit_id', sa.Integer(), nullable=True),
    sa.Column('ratio_high_pct', sa.Integer(), nullable=False),
    sa.Column('ratio_medium_pct', sa.Integer(), nullable=False),
    sa.Column('ratio_low_pct', sa.Integer(), nullable=False),
    sa.Column('per_year', sa.Integer(), nullable=False),
    sa.Column('inspectors_per_object', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=300), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['lead_unit_id'], ['unit.id'], name=op.f('fk_inspection_item_lead_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_item')),
    sa.UniqueConstraint('code', name=op.f('uq_inspection_item_code'))
    )
    op.create_table('inspection_object',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('risk_grade', sa.Enum('high', 'medium', 'low', name='riskgrade', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_inspection_object_mine_id_mine')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_object')),
    sa.UniqueConstraint('mine_id', name=op.f('uq_inspection_object_mine_id'))
    )
    op.create_table('inspector',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('role_title', sa.String(length=100), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_inspector_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspector')),
    sa.UniqueConstraint('code', name=op.f('uq_inspector_code'))
    )
    op.create_table('panel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('seam', sa.String(length=40), nullable=True),
    sa.Column('thickness_m', sa.Float(), nullable=False),
    sa.Column('depth_dip_m', sa.Float(), nullable=False),
    sa.Column('depth_rise_m', sa.Float(), nullable=False),
    sa.Column('dip_deg', sa.Float(), nullable=False),
    sa.Column('dip_azimuth_deg', sa.Float(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('advance_m_per_day', sa.Float(), nullable=True),
    sa.Column('geometry', subsidence.db.types.Geometry('POLYGON', srid=4546), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_panel_mine_id_mine')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel')),
    sa.UniqueConstraint('code', name=op.f('uq_panel_code'))
    )
    op.create_table('reclamation_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('doc_no', sa.String(length=80), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('approval_date', sa.Date(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('works', sa.Text(), nullable=True),
    sa.Column('cost_estimate_yuan', sa.BigInteger(), nullable=False),
    sa.Column('schedule', sa.JSON(), nullable=True),
    sa.Column('revision_reason', sa.Text(), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_reclamation_plan_mine_id_mine')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['reclamation_plan.id'], name=op.f('fk_reclamation_plan_supersedes_id_reclamation_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reclamation_plan')),
    sa.UniqueConstraint('code', name=op.f('uq_reclamation_plan_code')),
    sa.UniqueConstraint('mine_id', 'revision', name='uq_reclamation_plan_mine_revision')
    )
    op.create_table('subsidence_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('source', sa.Enum('remote_sensing', 'prediction', 'survey', name='subsidencesource', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('review_state', sa.Enum('candidate', 'confirmed', 'rejected', 'merged', 'split', name='reviewstate', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('stability', sa.Enum('not_started', 'active', 'declining', 'stable', name='movementstage', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.Column('area_ha', sa.Float(), nullable=True),
    sa.Column('max_subsidence_mm', sa.Float(), nullable=True),
    sa.Column('mean_subsidence_mm', sa.Float(), nullable=True),
    sa.Column('volume_m3', sa.Float(), nullable=True),
    sa.Column('mean_rate_mm_per_yr', sa.Float(), nullable=True),
    sa.Column('first_seen', sa.Date(), nullable=True),
    sa.Column('last_seen', sa.Date(), nullable=True),
    sa.Column('treated', sa.Boolean(), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=True),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('geometry', subsidence.db.types.Geometry('MULTIPOLYGON', srid=4546), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('census_id', sa.Integer(), nullable=True),
    sa.Column('source_detail', sa.String(length=300), nullable=True),
    sa.Column('n_pixels', sa.Integer(), nullable=True),
    sa.Column('max_is_lower_bound', sa.Boolean(), nullable=False),
    sa.Column('decorrelated_ha', sa.Float(), nullable=True),
    sa.Column('filled_fraction', sa.Float(), nullable=True),
    sa.Column('filled_geometry', subsidence.db.types.Geometry('MULTIPOLYGON', srid=4546), nullable=True),
    sa.Column('outside_mining_right', sa.Boolean(), nullable=False),
    sa.Column('outside_mining_right_ha', sa.Float(), nullable=True),
    sa.Column('beyond_licence', sa.Boolean(), nullable=False),
    sa.Column('beyond_licence_ha', sa.Float(), nullable=True),
    sa.Column('parent_codes', sa.JSON(), nullable=True),
    sa.Column('attributes', sa.JSON(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['census_id'], ['census_run.id'], name=op.f('fk_subsidence_area_census_id_census_run')),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_subsidence_area_mine_id_mine')),
    sa.ForeignKeyConstraint(['town_id'], ['admin_area.id'], name=op.f('fk_subsidence_area_town_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subsidence_area')),
    sa.UniqueConstraint('code', name=op.f('uq_subsidence_area_code'))
    )
    op.create_table('task_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('task_no', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('lead', 'cooperate', name='taskrole', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_task_assignment_unit_id_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_assignment')),
    sa.UniqueConstraint('unit_id', 'task_no', name='uq_task_assignment_unit_task')
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('password_hash', sa.String(length=300), nullable=True),
    sa.Column('role', sa.Enum('office', 'department', 'town', 'enterprise', 'monitor', 'public', name='role', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_user_account_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_user_account_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    op.create_table('annual_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('target_treat_ha', sa.Float(), nullable=False),
    sa.Column('target_reclaim_ha', sa.Float(), nullable=False),
    sa.Column('targets_by_land_type', sa.JSON(), nullable=True),
    sa.Column('works', sa.Text(), nullable=True),
    sa.Column('budget_yuan', sa.BigInteger(), nullable=False),
    sa.Column('required_fund_accrual_yuan', sa.BigInteger(), nullable=False),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_annual_plan_mine_id_mine')),
    sa.ForeignKeyConstraint(['plan_id'], ['reclamation_plan.id'], name=op.f('fk_annual_plan_plan_id_reclamation_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_plan')),
    sa.UniqueConstraint('mine_id', 'year', name='uq_annual_plan_mine_year')
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('secret_sha256', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_api_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('secret_sha256', name=op.f('uq_api_token_secret_sha256'))
    )
    op.create_table('draw_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('pool', sa.JSON(), nullable=False),
    sa.Column('pool_sha256', sa.String(length=64), nullable=False),
    sa.Column('published_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('redo_reason', sa.Text(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['inspection_item.id'], name=op.f('fk_draw_record_item_id_inspection_item')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['draw_record.id'], name=op.f('fk_draw_record_supersedes_id_draw_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draw_record')),
    sa.UniqueConstraint('code', name=op.f('uq_draw_record_code'))
    )
    op.create_table('fund_obligation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('output_kg', sa.BigInteger(), nullable=False),
    sa.Column('price_key', sa.String(length=40), nullable=False),
    sa.Column('coefficients', sa.JSON(), nullable=False),
    sa.Column('formula_fen', sa.BigInteger(), nullable=False),
    sa.Column('plan_required_fen', sa.BigInteger(), nullable=False),
    sa.Column('required_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['fund_account.id'], name=op.f('fk_fund_obligation_account_id_fund_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_obligation')),
    sa.UniqueConstraint('account_id', 'year', name='uq_fund_obligation_account_year')
    )
    op.create_table('hazard_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hazard_point_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['hazard_point_id'], ['hazard_point.id'], name=op.f('fk_hazard_contact_hazard_point_id_hazard_point'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_hazard_contact_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard_contact'))
    )
    with op.batch_alter_table('hazard_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hazard_contact_hazard_point_id'), ['hazard_point_id'], unique=False)

    op.create_table('household',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('hazard_point_id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('village', sa.String(length=100), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('head_role', sa.String(length=100), nullable=True),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('property_10k_yuan', sa.Float(), nullable=True),
    sa.Column('house_type', sa.String(length=60), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('to_relocate', sa.Boolean(), nullable=False),
    sa.Column('geometry', subsidence.db.types.Geometry('POINT', srid=4546), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['hazard_point_id'], ['hazard_point.id'], name=op.f('fk_household_hazard_point_id_hazard_point')),
    sa.ForeignKeyConstraint(['town_id'], ['admin_area.id'], name=op.f('fk_household_town_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household')),
    sa.UniqueConstraint('code', name=op.f('uq_household_code'))
    )
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_hazard_point_id'), ['hazard_point_id'], unique=False)

    op.create_table('inspector_conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('declared_date', sa.Date(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['inspector_id'], ['inspector.id'], name=op.f('fk_inspector_conflict_inspector_id_inspector')),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_inspector_conflict_mine_id_mine')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspector_conflict')),
    sa.UniqueConstraint('inspector_id', 'mine_id', name='uq_inspector_conflict_pair')
    )
    op.create_table('monitor_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('hazard_point_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hazard_point_id'], ['hazard_point.id'], name=op.f('fk_monitor_assignment_hazard_point_id_hazard_point'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_monitor_assignment_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_assignment'))
    )
    with op.batch_alter_table('monitor_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitor_assignment_user_id'), ['user_id'], unique=False)

    op.create_table('plan_parcel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('purpose', sa.Enum('damaged', 'treat', 'reclaim', name='parcelpurpose', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('land_type', sa.Enum('cropland', 'forest', 'grassland', 'other', name='landtype', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('planned_year', sa.Integer(), nullable=True),
    sa.Column('area_ha', sa.Float(), nullable=False),
    sa.Column('geometry', subsidence.db.types.Geometry('MULTIPOLYGON', srid=4546), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['reclamation_plan.id'], name=op.f('fk_plan_parcel_plan_id_reclamation_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_parcel'))
    )
    op.create_table('problem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('category', sa.Enum('1', '2', '3', '4', '5', '6', '7', name='problemcategory', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('requirement', sa.Text(), nullable=True),
    sa.Column('mine_id', sa.Integer(), nullable=True),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('lead_unit_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.Enum('remote_sensing', 'annual_assessment', 'double_random', 'field_survey', 'report', 'monitoring', 'self_check', name='problemsource', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('found_date', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('state', sa.Enum('found', 'fixed_at_once', 'notice_issued', 'rectifying', 'submitted', 'accepted', 'returned', 'withdrawn', name='problemstate', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('closed_date', sa.Date(), nullable=True),
    sa.Column('geometry', subsidence.db.types.Geometry('GEOMETRY', srid=4546), nullable=True),
    sa.Column('subsidence_area_id', sa.Integer(), nullable=True),
    sa.Column('origin_key', sa.String(length=120), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('submitted_date', sa.Date(), nullable=True),
    sa.Column('acceptance_due', sa.Date(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('deadline IS NULL OR deadline >= found_date', name=op.f('ck_problem_deadline_after_found')),
    sa.ForeignKeyConstraint(['lead_unit_id'], ['unit.id'], name=op.f('fk_problem_lead_unit_id_unit')),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_problem_mine_id_mine')),
    sa.ForeignKeyConstraint(['subsidence_area_id'], ['subsidence_area.id'], name=op.f('fk_problem_subsidence_area_id_subsidence_area')),
    sa.ForeignKeyConstraint(['town_id'], ['admin_area.id'], name=op.f('fk_problem_town_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem')),
    sa.UniqueConstraint('code', name=op.f('uq_problem_code')),
    sa.UniqueConstraint('origin_key', name=op.f('uq_problem_origin_key'))
    )
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.create_index('ix_web_problem_category', ['category', 'id'], unique=False)
        batch_op.create_index('ix_web_problem_lead_unit', ['lead_unit_id', 'id'], unique=False)
        batch_op.create_index('ix_web_problem_mine', ['mine_id', 'id'], unique=False)
        batch_op.create_index('ix_web_problem_state_category', ['state', 'category', 'deadline'], unique=False)
        batch_op.create_index('ix_web_problem_state_deadline', ['state', 'deadline'], unique=False)
        batch_op.create_index('ix_web_problem_town', ['town_id', 'id'], unique=False)

    op.create_table('sensor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.Enum('gnss', 'crack_meter', 'inclinometer', 'rain_gauge', 'groundwater_well', 'insar_point', name='sensorkind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('hazard_point_id', sa.Integer(), nullable=True),
    sa.Column('mine_id', sa.Integer(), nullable=True),
    sa.Column('well_id', sa.Integer(), nullable=True),
    sa.Column('installed', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('geometry', subsidence.db.types.Geometry('POINT', srid=4546), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('expected_interval_s', sa.Integer(), nullable=True),
    sa.Column('valid_min', sa.Float(), nullable=True),
    sa.Column('valid_max', sa.Float(), nullable=True),
    sa.Column('resolution', sa.Float(), nullable=True),
    sa.Column('config', sa.JSON(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['hazard_point_id'], ['hazard_point.id'], name=op.f('fk_sensor_hazard_point_id_hazard_point')),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_sensor_mine_id_mine')),
    sa.ForeignKeyConstraint(['well_id'], ['groundwater_well.id'], name=op.f('fk_sensor_well_id_groundwater_well')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sensor')),
    sa.UniqueConstraint('code', name=op.f('uq_sensor_code'))
    )
    op.create_table('subsidence_area_mine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('overlap_ha', sa.Float(), nullable=False),
    sa.Column('causing', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['subsidence_area.id'], name=op.f('fk_subsidence_area_mine_area_id_subsidence_area'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_subsidence_area_mine_mine_id_mine')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subsidence_area_mine')),
    sa.UniqueConstraint('area_id', 'mine_id', name='uq_subsidence_area_mine_pair')
    )
    op.create_table('subsidence_area_panel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('panel_id', sa.Integer(), nullable=False),
    sa.Column('overlap_ha', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['subsidence_area.id'], name=op.f('fk_subsidence_area_panel_area_id_subsidence_area'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['panel_id'], ['panel.id'], name=op.f('fk_subsidence_area_panel_panel_id_panel')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subsidence_area_panel')),
    sa.UniqueConstraint('area_id', 'panel_id', name='uq_subsidence_area_panel_pair')
    )
    op.create_table('subsidence_area_town',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('overlap_ha', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['subsidence_area.id'], name=op.f('fk_subsidence_area_town_area_id_subsidence_area'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['town_id'], ['admin_area.id'], name=op.f('fk_subsidence_area_town_town_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subsidence_area_town')),
    sa.UniqueConstraint('area_id', 'town_id', name='uq_subsidence_area_town_pair')
    )
    op.create_table('web_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('secret_sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_web_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_session')),
    sa.UniqueConstraint('secret_sha256', name=op.f('uq_web_session_secret_sha256'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index('ix_web_session_expires', ['expires_at'], unique=False)

    op.create_table('well_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('well_id', sa.Integer(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('declining', sa.Boolean(), nullable=False),
    sa.Column('rate_m_per_month', sa.Numeric(precision=10, scale=4, asdecimal=False), nullable=True),
    sa.Column('drawdown_m', sa.Numeric(precision=10, scale=3, asdecimal=False), nullable=True),
    sa.Column('n_points', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.Date(), nullable=True),
    sa.Column('window_end', sa.Date(), nullable=True),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['well_id'], ['groundwater_well.id'], name=op.f('fk_well_assessment_well_id_groundwater_well')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_well_assessment'))
    )
    op.create_table('acceptance_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('decided_date', sa.Date(), nullable=False),
    sa.Column('result', sa.Enum('passed', 'returned', name='acceptanceresult', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.Column('inspectors', sa.JSON(), nullable=False),
    sa.Column('site_visit', sa.Boolean(), nullable=False),
    sa.Column('decided_by', sa.String(length=120), nullable=False),
    sa.Column('within_window', sa.Boolean(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_acceptance_record_problem_id_problem')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acceptance_record'))
    )
    op.create_table('alarm',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('open_key', sa.String(length=80), nullable=True),
    sa.Column('sensor_id', sa.Integer(), nullable=True),
    sa.Column('hazard_point_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('data_quality', sa.Boolean(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('max_level', sa.SmallInteger(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('opened_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('level_since', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=120), nullable=True),
    sa.Column('acknowledged_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalation_stage', sa.SmallInteger(), nullable=False),
    sa.Column('next_escalation_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['hazard_point_id'], ['hazard_point.id'], name=op.f('fk_alarm_hazard_point_id_hazard_point')),
    sa.ForeignKeyConstraint(['sensor_id'], ['sensor.id'], name=op.f('fk_alarm_sensor_id_sensor')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm')),
    sa.UniqueConstraint('open_key', name=op.f('uq_alarm_open_key'))
    )
    with op.batch_alter_table('alarm', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alarm_hazard_point_id'), ['hazard_point_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alarm_sensor_id'), ['sensor_id'], unique=False)
        batch_op.create_index('ix_alarm_state_level', ['state', 'level'], unique=False)

    op.create_table('alarm_track',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sensor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('evaluated_until', subsidence.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('raw_level', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['sensor_id'], ['sensor.id'], name=op.f('fk_alarm_track_sensor_id_sensor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_track')),
    sa.UniqueConstraint('sensor_id', 'kind', name='uq_alarm_track_sensor_kind')
    )
    op.create_table('card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('hazard_point_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('issued_date', sa.Date(), nullable=False),
    sa.Column('issuing_unit', sa.String(length=200), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('pdf_path', sa.String(length=500), nullable=True),
    sa.Column('superseded', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['hazard_point_id'], ['hazard_point.id'], name=op.f('fk_card_hazard_point_id_hazard_point')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_card_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card')),
    sa.UniqueConstraint('code', name=op.f('uq_card_code'))
    )
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_hazard_point_id'), ['hazard_point_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_household_id'), ['household_id'], unique=False)

    op.create_table('draw_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('result_sha256', sa.String(length=64), nullable=False),
    sa.Column('drawn_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draw_id'], ['draw_record.id'], name=op.f('fk_draw_result_draw_id_draw_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draw_result')),
    sa.UniqueConstraint('draw_id', name=op.f('uq_draw_result_draw_id'))
    )
    op.create_table('draw_seed',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.Column('source_time', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('entered_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draw_id'], ['draw_record.id'], name=op.f('fk_draw_seed_draw_id_draw_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draw_seed')),
    sa.UniqueConstraint('draw_id', name=op.f('uq_draw_seed_draw_id'))
    )
    op.create_table('escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('lead_unit', 'office', name='escalationlevel', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('escalated_date', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('workdays_overdue', sa.Integer(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_escalation_problem_id_problem')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_escalation_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation')),
    sa.UniqueConstraint('problem_id', 'level', name='uq_escalation_problem_level')
    )
    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('storage_path', sa.String(length=300), nullable=False),
    sa.Column('uploaded_by', sa.String(length=120), nullable=False),
    sa.Column('taken_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('location', subsidence.db.types.Geometry('POINT', srid=4546), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_evidence_problem_id_problem')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('problem_id', 'sha256', name='uq_evidence_problem_sha256')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_sha256'), ['sha256'], unique=False)

    op.create_table('fund_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('deposit', 'spending', 'withdrawal', 'reversal', name='fundentrykind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=True),
    sa.Column('works', sa.String(length=300), nullable=True),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['fund_account.id'], name=op.f('fk_fund_entry_account_id_fund_account')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_fund_entry_problem_id_problem')),
    sa.ForeignKeyConstraint(['reverses_id'], ['fund_entry.id'], name=op.f('fk_fund_entry_reverses_id_fund_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_entry')),
    sa.UniqueConstraint('code', name=op.f('uq_fund_entry_code')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_fund_entry_reverses_id'))
    )
    op.create_table('hidden_factor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('factor_type', sa.Enum('goaf_water', 'gas', 'fire_zone', 'fault', 'old_workings', 'collapse_column', 'aquifer', 'unsealed_borehole', 'other', name='hiddenfactortype', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('census_year', sa.Integer(), nullable=False),
    sa.Column('surveyed_date', sa.Date(), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('risk_level', sa.String(length=20), nullable=True),
    sa.Column('is_problem', sa.Boolean(), nullable=False),
    sa.Column('plan_due', sa.Date(), nullable=True),
    sa.Column('problem_id', sa.Integer(), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_hidden_factor_mine_id_mine')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_hidden_factor_problem_id_problem')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hidden_factor')),
    sa.UniqueConstraint('code', name=op.f('uq_hidden_factor_code'))
    )
    op.create_table('inspection_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('inspected_date', sa.Date(), nullable=False),
    sa.Column('outcome', sa.Enum('compliant', 'problems', 'not_inspected', name='inspectionoutcome', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('public_summary', sa.Text(), nullable=True),
    sa.Column('publish_deadline', sa.Date(), nullable=False),
    sa.Column('published_date', sa.Date(), nullable=True),
    sa.Column('problem_id', sa.Integer(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['draw_id'], ['draw_record.id'], name=op.f('fk_inspection_result_draw_id_draw_record')),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_inspection_result_mine_id_mine')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_inspection_result_problem_id_problem')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_result')),
    sa.UniqueConstraint('draw_id', 'mine_id', name='uq_inspection_result_draw_mine')
    )
    op.create_table('milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('done_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_milestone_problem_id_problem'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone'))
    )
    op.create_table('observation',
    sa.Column('sensor_id', sa.Integer(), nullable=False),
    sa.Column('time', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['sensor_id'], ['sensor.id'], name=op.f('fk_observation_sensor_id_sensor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sensor_id', 'time', name=op.f('pk_observation'))
    )
    op.create_table('problem_cooperating_unit',
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_problem_cooperating_unit_problem_id_problem'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_problem_cooperating_unit_unit_id_unit')),
    sa.PrimaryKeyConstraint('problem_id', 'unit_id', name=op.f('pk_problem_cooperating_unit'))
    )
    op.create_table('rectification_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=True),
    sa.Column('issuer_unit_id', sa.Integer(), nullable=True),
    sa.Column('issued_by', sa.String(length=120), nullable=False),
    sa.Column('issued_date', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('requirement', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('deadline >= issued_date', name=op.f('ck_rectification_notice_deadline_after_issue')),
    sa.ForeignKeyConstraint(['issuer_unit_id'], ['unit.id'], name=op.f('fk_rectification_notice_issuer_unit_id_unit')),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_rectification_notice_mine_id_mine')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_rectification_notice_problem_id_problem')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_notice')),
    sa.UniqueConstraint('code', name=op.f('uq_rectification_notice_code')),
    sa.UniqueConstraint('year', 'seq', name='uq_rectification_notice_year_seq')
    )
    op.create_table('treated_parcel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('annual_plan_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('damaged', 'treat', 'reclaim', name='parcelpurpose', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('land_type', sa.Enum('cropland', 'forest', 'grassland', 'other', name='landtype', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('works', sa.Text(), nullable=True),
    sa.Column('spending_yuan', sa.BigInteger(), nullable=False),
    sa.Column('reported_date', sa.Date(), nullable=False),
    sa.Column('area_ha', sa.Float(), nullable=False),
    sa.Column('state', sa.Enum('reported', 'verified_rs', 'accepted', 'rejected', name='parcelstate', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('state_reason', sa.Text(), nullable=True),
    sa.Column('rs_ndvi_before', sa.Float(), nullable=True),
    sa.Column('rs_ndvi_after', sa.Float(), nullable=True),
    sa.Column('rs_stable_fraction', sa.Float(), nullable=True),
    sa.Column('verified_date', sa.Date(), nullable=True),
    sa.Column('accepted_date', sa.Date(), nullable=True),
    sa.Column('geometry', subsidence.db.types.Geometry('MULTIPOLYGON', srid=4546), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['annual_plan_id'], ['annual_plan.id'], name=op.f('fk_treated_parcel_annual_plan_id_annual_plan')),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_treated_parcel_mine_id_mine')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treated_parcel')),
    sa.UniqueConstraint('code', name=op.f('uq_treated_parcel_code'))
    )
    op.create_table('vegetation_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.Enum('loss', 'recovery', name='vegetationchangekind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('date_before', sa.Date(), nullable=False),
    sa.Column('date_after', sa.Date(), nullable=False),
    sa.Column('area_ha', sa.Float(), nullable=False),
    sa.Column('over_goaf_ha', sa.Float(), nullable=False),
    sa.Column('mean_delta_ndvi', sa.Float(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('mine_id', sa.Integer(), nullable=True),
    sa.Column('source_files', sa.JSON(), nullable=True),
    sa.Column('parameters', sa.JSON(), nullable=True),
    sa.Column('problem_id', sa.Integer(), nullable=True),
    sa.Column('geometry', subsidence.db.types.Geometry('MULTIPOLYGON', srid=4546), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_vegetation_change_mine_id_mine')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_vegetation_change_problem_id_problem')),
    sa.ForeignKeyConstraint(['town_id'], ['admin_area.id'], name=op.f('fk_vegetation_change_town_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vegetation_change')),
    sa.UniqueConstraint('code', name=op.f('uq_vegetation_change_code'))
    )
    op.create_table('water_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('mine_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('required', 'submitted', 'approved', 'returned', 'implemented', name='waterplanstate', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('required_reason', sa.Text(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('submitted_date', sa.Date(), nullable=True),
    sa.Column('approved_date', sa.Date(), nullable=True),
    sa.Column('approval_no', sa.String(length=100), nullable=True),
    sa.Column('approving_unit_id', sa.Integer(), nullable=True),
    sa.Column('implemented_date', sa.Date(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('problem_id', sa.Integer(), nullable=True),
    sa.Column('illustrative', sa.Boolean(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['approving_unit_id'], ['unit.id'], name=op.f('fk_water_plan_approving_unit_id_unit')),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_water_plan_mine_id_mine')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_water_plan_problem_id_problem')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_water_plan')),
    sa.UniqueConstraint('code', name=op.f('uq_water_plan_code'))
    )
    op.create_table('alarm_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('alarm_id', sa.Integer(), nullable=False),
    sa.Column('at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=30), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['alarm_id'], ['alarm.id'], name=op.f('fk_alarm_event_alarm_id_alarm')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_event'))
    )
    with op.batch_alter_table('alarm_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alarm_event_alarm_id'), ['alarm_id'], unique=False)

    op.create_table('card_copy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=20), nullable=False),
    sa.Column('receipt_signed_by', sa.String(length=200), nullable=True),
    sa.Column('receipt_signed_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('receipt_reference', sa.String(length=300), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_card_copy_card_id_card'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_copy')),
    sa.UniqueConstraint('card_id', 'holder', name='uq_card_copy_card_holder')
    )
    op.create_table('notice_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('delivered_date', sa.Date(), nullable=False),
    sa.Column('method', sa.Enum('in_person', 'post', 'electronic', 'left_at_premises', 'public_announcement', name='deliverymethod', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('receiving_role', sa.String(length=120), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['rectification_notice.id'], name=op.f('fk_notice_delivery_notice_id_rectification_notice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_delivery'))
    )
    op.create_table('outbox_message',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('alarm_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('recipient_role', sa.String(length=200), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', subsidence.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', subsidence.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['alarm_id'], ['alarm.id'], name=op.f('fk_outbox_message_alarm_id_alarm')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_message_idempotency_key'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_alarm_id'), ['alarm_id'], unique=False)
        batch_op.create_index('ix_outbox_message_state_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('rectification_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('factor_id', sa.Integer(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('responsible_role', sa.String(length=200), nullable=True),
    sa.Column('rectify_deadline', sa.Date(), nullable=True),
    sa.Column('state', sa.Enum('draft', 'submitted', 'approved', 'returned', 'completed', name='planreviewstate', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('submitted_date', sa.Date(), nullable=True),
    sa.Column('reviewed_date', sa.Date(), nullable=True),
    sa.Column('reviewer_unit_id', sa.Integer(), nullable=True),
    sa.Column('review_result', sa.Text(), nullable=True),
    sa.Column('completed_date', sa.Date(), nullable=True),
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['factor_id'], ['hidden_factor.id'], name=op.f('fk_rectification_plan_factor_id_hidden_factor')),
    sa.ForeignKeyConstraint(['reviewer_unit_id'], ['unit.id'], name=op.f('fk_rectification_plan_reviewer_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_plan')),
    sa.UniqueConstraint('code', name=op.f('uq_rectification_plan_code')),
    sa.UniqueConstraint('factor_id', name=op.f('uq_rectification_plan_factor_id'))
    )
    op.create_table('water_plan_well',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('well_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['water_plan.id'], name=op.f('fk_water_plan_well_plan_id_water_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['well_id'], ['groundwater_well.id'], name=op.f('fk_water_plan_well_well_id_groundwater_well')),
    sa.PrimaryKeyConstraint('plan_id', 'well_id', name=op.f('pk_water_plan_well'))
    )
    ddl.after_schema([('admin_area', 'geometry'), ('mine', 'geometry'), ('compensated_building', 'geometry'), ('groundwater_well', 'geometry'), ('hazard_point', 'geometry'), ('hazard_point', 'extent'), ('hazard_point', 'evacuation_route'), ('hazard_point', 'shelter'), ('panel', 'geometry'), ('subsidence_area', 'geometry'), ('subsidence_area', 'filled_geometry'), ('household', 'geometry'), ('plan_parcel', 'geometry'), ('problem', 'geometry'), ('sensor', 'geometry'), ('evidence', 'location'), ('treated_parcel', 'geometry'), ('vegetation_change', 'geometry')])


def downgrade() -> None:
    ddl.before_drop()
    op.drop_table('water_plan_well')
    op.drop_table('rectification_plan')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_state_due')
        batch_op.drop_index(batch_op.f('ix_outbox_message_alarm_id'))

    op.drop_table('outbox_message')
    op.drop_table('notice_delivery')
    op.drop_table('card_copy')
    with op.batch_alter_table('alarm_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alarm_event_alarm_id'))

    op.drop_table('alarm_event')
    op.drop_table('water_plan')
    op.drop_table('vegetation_change')
    op.drop_table('treated_parcel')
    op.drop_table('rectification_notice')
    op.drop_table('problem_cooperating_unit')
    op.drop_table('observation')
    op.drop_table('milestone')
    op.drop_table('inspection_result')
    op.drop_table('hidden_factor')
    op.drop_table('fund_entry')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_sha256'))

    op.drop_table('evidence')
    op.drop_table('escalation')
    op.drop_table('draw_seed')
    op.drop_table('draw_result')
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_household_id'))
        batch_op.drop_index(batch_op.f('ix_card_hazard_point_id'))

    op.drop_table('card')
    op.drop_table('alarm_track')
    with op.batch_alter_table('alarm', schema=None) as batch_op:
        batch_op.drop_index('ix_alarm_state_level')
        batch_op.drop_index(batch_op.f('ix_alarm_sensor_id'))
        batch_op.drop_index(batch_op.f('ix_alarm_hazard_point_id'))

    op.drop_table('alarm')
    op.drop_table('acceptance_record')
    op.drop_table('well_assessment')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index('ix_web_session_expires')

    op.drop_table('web_session')
    op.drop_table('subsidence_area_town')
    op.drop_table('subsidence_area_panel')
    op.drop_table('subsidence_area_mine')
    op.drop_table('sensor')
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.drop_index('ix_web_problem_town')
        batch_op.drop_index('ix_web_problem_state_deadline')
        batch_op.drop_index('ix_web_problem_state_category')
        batch_op.drop_index('ix_web_problem_mine')
        batch_op.drop_index('ix_web_problem_lead_unit')
        batch_op.drop_index('ix_web_problem_category')

    op.drop_table('problem')
    op.drop_table('plan_parcel')
    with op.batch_alter_table('monitor_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitor_assignment_user_id'))

    op.drop_table('monitor_assignment')
    op.drop_table('inspector_conflict')
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_hazard_point_id'))

    op.drop_table('household')
    with op.batch_alter_table('hazard_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hazard_contact_hazard_point_id'))

    op.drop_table('hazard_contact')
    op.drop_table('fund_obligation')
    op.drop_table('draw_record')
    op.drop_table('api_token')
    op.drop_table('annual_plan')
    op.drop_table('user_account')
    op.drop_table('task_assignment')
    op.drop_table('subsidence_area')
    op.drop_table('reclamation_plan')
    op.drop_table('panel')
    op.drop_table('inspector')
    op.drop_table('inspection_object')
    op.drop_table('inspection_item')
    with op.batch_alter_table('hazard_point', schema=None) as batch_op:
        batch_op.drop_index('ix_web_hazard_point_town')

    op.drop_table('hazard_point')
    op.drop_table('groundwater_well')
    with op.batch_alter_table('gate_query', schema=None) as batch_op:
        batch_op.drop_index('ix_gate_query_mine')

    op.drop_table('gate_query')
    op.drop_table('fund_account')
    op.drop_table('compensated_building')
    op.drop_table('assessment_score')
    op.drop_table('unit')
    with op.batch_alter_table('mine', schema=None) as batch_op:
        batch_op.drop_index('ix_web_mine_enterprise')

    op.drop_table('mine')
    op.drop_table('review_decision')
    op.drop_table('notice_counter')
    op.drop_table('ingest_batch')
    op.drop_table('enterprise')
    op.drop_table('census_run')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_entity')

    op.drop_table('audit_event')
    op.drop_table('admin_area')
