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
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_hazard_point_mine_id_mine')),
    sa.ForeignKeyConstraint(['town_id'], ['admin_area.id'], name=op.f('fk_hazard_point_town_id_admin_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard_point')),
    sa.UniqueConstraint('code', name=op.f('uq_hazard_point_code'))
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
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
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
    sa.Column('created_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', subsidence.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['hazard_point_id'], ['hazard_point.id'], name=op.f('fk_sensor_hazard_point_id_hazard_point')),
    sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], name=op.f('fk_sensor_mine_id_mine')),
    sa.ForeignKeyConstraint(['well_id'], ['groundwater_well.id'], name=op.f('fk_sensor_well_id_groundwater_well')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sensor')),
    sa.UniqueConstraint('code', name=op.f('uq_sensor_code'))
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
    op.create_table('problem_cooperating_unit',
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_problem_cooperating_unit_problem_id_problem'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_problem_cooperating_unit_unit_id_unit')),
    sa.PrimaryKeyConstraint('problem_id', 'unit_id', name=op.f('pk_problem_cooperating_unit'))
    )
    ddl.after_schema([('admin_area', 'geometry'), ('mine', 'geometry'), ('compensated_building', 'geometry'), ('groundwater_well', 'geometry'), ('hazard_point', 'geometry'), ('hazard_point', 'extent'), ('hazard_point', 'evacuation_route'), ('hazard_point', 'shelter'), ('panel', 'geometry'), ('subsidence_area', 'geometry'), ('problem', 'geometry'), ('sensor', 'geometry')])


def downgrade() -> None:
    ddl.before_drop()
    op.drop_table('problem_cooperating_unit')
    op.drop_table('milestone')
    op.drop_table('sensor')
    op.drop_table('problem')
    op.drop_table('user_account')
    op.drop_table('task_assignment')
    op.drop_table('subsidence_area')
    op.drop_table('panel')
    op.drop_table('hazard_point')
    op.drop_table('groundwater_well')
    op.drop_table('compensated_building')
    op.drop_table('unit')
    op.drop_table('mine')
    op.drop_table('enterprise')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_entity')

    op.drop_table('audit_event')
    op.drop_table('admin_area')
