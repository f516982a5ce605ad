"""Compliance schema: per-evaluation snapshots (household certifications and recertification schedule, unit
status, program tests, assisted households, overall status, data issues), the evaluations log and the findings
ledger (`violations`, never deleted).

Revision ID: 0002_compliance
Revises: 0001_initial
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rm_pipelines.warehouse.types import Fixed, UTCDateTime

revision = "0002_compliance"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('CREATE SCHEMA IF NOT EXISTS "compliance"')
    op.create_table('assisted_households',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False, comment='evaluation date'),
    sa.Column('run_id', sa.String(length=64), nullable=False, comment='Dagster run (or caller) that evaluated'),
    sa.Column('org_id', sa.String(length=64), nullable=False, comment='organisation (registry slug)'),
    sa.Column('property_id', sa.Text(), nullable=True),
    sa.Column('unit_id', sa.Text(), nullable=True),
    sa.Column('household_id', sa.Text(), nullable=True),
    sa.Column('program', sa.Text(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=True),
    sa.Column('ruleset', sa.Text(), nullable=True),
    sa.Column('utility_allowance', Fixed(18, 4), nullable=True),
    sa.Column('ttp', sa.BigInteger(), nullable=True),
    sa.Column('payment_standard', Fixed(18, 4), nullable=True),
    sa.Column('payment_standard_source', sa.Text(), nullable=True),
    sa.Column('gross_rent', Fixed(18, 4), nullable=True),
    sa.Column('hap', Fixed(18, 4), nullable=True),
    sa.Column('family_share', Fixed(18, 4), nullable=True),
    sa.Column('tenant_rent', Fixed(18, 4), nullable=True),
    sa.Column('utility_reimbursement', Fixed(18, 4), nullable=True),
    sa.Column('basic_rent', Fixed(18, 4), nullable=True),
    sa.Column('note_rent', Fixed(18, 4), nullable=True),
    sa.Column('gross_tenant_contribution', sa.BigInteger(), nullable=True),
    sa.Column('net_tenant_contribution', Fixed(18, 4), nullable=True),
    sa.Column('overage', Fixed(18, 4), nullable=True),
    sa.Column('rental_assistance', Fixed(18, 4), nullable=True),
    sa.Column('contribution_basis', sa.Text(), nullable=True),
    sa.Column('household_amounts', sa.Text(), nullable=True, comment='encrypted JSON: adjusted_income, annual_income'),
    sa.PrimaryKeyConstraint('id'),
    schema='compliance'
    )
    op.create_index('ix_assisted_households_org_as_of', 'assisted_households', ['org_id', 'as_of'], unique=False, schema='compliance')
    op.create_table('data_issues',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False, comment='evaluation date'),
    sa.Column('run_id', sa.String(length=64), nullable=False, comment='Dagster run (or caller) that evaluated'),
    sa.Column('entity', sa.Text(), nullable=True),
    sa.Column('entity_id', sa.Text(), nullable=True),
    sa.Column('property_id', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('org_id', sa.String(length=64), nullable=False, comment='organisation (registry slug)'),
    sa.PrimaryKeyConstraint('id'),
    schema='compliance'
    )
    op.create_index('ix_data_issues_org_as_of', 'data_issues', ['org_id', 'as_of'], unique=False, schema='compliance')
    op.create_table('evaluations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('evaluated_at', UTCDateTime(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('open_findings', sa.Integer(), nullable=False),
    sa.Column('new_findings', sa.Integer(), nullable=False),
    sa.Column('corrected_findings', sa.Integer(), nullable=False),
    sa.Column('data_issues', sa.Integer(), nullable=False),
    sa.Column('compliant', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    schema='compliance'
    )
    op.create_index('ix_evaluations_org_as_of', 'evaluations', ['org_id', 'as_of'], unique=False, schema='compliance')
    op.create_table('household_certifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False, comment='evaluation date'),
    sa.Column('run_id', sa.String(length=64), nullable=False, comment='Dagster run (or caller) that evaluated'),
    sa.Column('org_id', sa.String(length=64), nullable=False, comment='organisation (registry slug)'),
    sa.Column('property_id', sa.Text(), nullable=True),
    sa.Column('unit_id', sa.Text(), nullable=True),
    sa.Column('household_id', sa.Text(), nullable=True),
    sa.Column('certification_id', sa.Text(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=True),
    sa.Column('effective_date', sa.Date(), nullable=True),
    sa.Column('signed_date', sa.Date(), nullable=True),
    sa.Column('household_size', sa.BigInteger(), nullable=True),
    sa.Column('ruleset', sa.Text(), nullable=True),
    sa.Column('program', sa.Text(), nullable=True),
    sa.Column('income_limit_pct', sa.BigInteger(), nullable=True),
    sa.Column('income_limit', Fixed(18, 4), nullable=True),
    sa.Column('qualifies', sa.Boolean(), nullable=True),
    sa.Column('over_income_threshold', Fixed(18, 4), nullable=True),
    sa.Column('over_income', sa.Boolean(), nullable=True),
    sa.Column('household_amounts', sa.Text(), nullable=True, comment='encrypted JSON: annual_income, annual_income_whole, asset_income, benefit_income, employment_income, imputed_asset_income, net_family_assets, other_income, public_assistance_income'),
    sa.PrimaryKeyConstraint('id'),
    schema='compliance'
    )
    op.create_index('ix_household_certifications_org_as_of', 'household_certifications', ['org_id', 'as_of'], unique=False, schema='compliance')
    op.create_table('household_status',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False, comment='evaluation date'),
    sa.Column('run_id', sa.String(length=64), nullable=False, comment='Dagster run (or caller) that evaluated'),
    sa.Column('org_id', sa.String(length=64), nullable=False, comment='organisation (registry slug)'),
    sa.Column('property_id', sa.Text(), nullable=True),
    sa.Column('unit_id', sa.Text(), nullable=True),
    sa.Column('household_id', sa.Text(), nullable=True),
    sa.Column('move_in_date', sa.Date(), nullable=True),
    sa.Column('household_size', sa.BigInteger(), nullable=True),
    sa.Column('last_certification_id', sa.Text(), nullable=True),
    sa.Column('last_certification_kind', sa.Text(), nullable=True),
    sa.Column('last_certification_date', sa.Date(), nullable=True),
    sa.Column('last_full_certification_date', sa.Date(), nullable=True),
    sa.Column('next_recert_due', sa.Date(), nullable=True),
    sa.Column('days_until_due', sa.BigInteger(), nullable=True),
    sa.Column('due_bucket', sa.Text(), nullable=True),
    sa.Column('recert_required', sa.Boolean(), nullable=True),
    sa.Column('recert_program', sa.Text(), nullable=True),
    sa.Column('recert_reason', sa.Text(), nullable=True),
    sa.Column('student_status', sa.Text(), nullable=True),
    sa.Column('over_income', sa.Boolean(), nullable=True),
    sa.Column('household_amounts', sa.Text(), nullable=True, comment='encrypted JSON: annual_income'),
    sa.PrimaryKeyConstraint('id'),
    schema='compliance'
    )
    op.create_index('ix_household_status_org_as_of', 'household_status', ['org_id', 'as_of'], unique=False, schema='compliance')
    op.create_table('overall_status',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False, comment='evaluation date'),
    sa.Column('run_id', sa.String(length=64), nullable=False, comment='Dagster run (or caller) that evaluated'),
    sa.Column('org_id', sa.String(length=64), nullable=False, comment='organisation (registry slug)'),
    sa.Column('program', sa.Text(), nullable=True),
    sa.Column('compliant', sa.Boolean(), nullable=True),
    sa.Column('properties', sa.BigInteger(), nullable=True),
    sa.Column('units', sa.BigInteger(), nullable=True),
    sa.Column('low_income_units', sa.BigInteger(), nullable=True),
    sa.Column('households', sa.BigInteger(), nullable=True),
    sa.Column('open_findings', sa.BigInteger(), nullable=True),
    sa.Column('past_due_findings', sa.BigInteger(), nullable=True),
    sa.Column('corrected_findings', sa.BigInteger(), nullable=True),
    sa.Column('open_by_8823_line', sa.Text(), nullable=True),
    sa.Column('worst_findings', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    schema='compliance'
    )
    op.create_index('ix_overall_status_org_as_of', 'overall_status', ['org_id', 'as_of'], unique=False, schema='compliance')
    op.create_table('program_status',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False, comment='evaluation date'),
    sa.Column('run_id', sa.String(length=64), nullable=False, comment='Dagster run (or caller) that evaluated'),
    sa.Column('org_id', sa.String(length=64), nullable=False, comment='organisation (registry slug)'),
    sa.Column('property_id', sa.Text(), nullable=True),
    sa.Column('building_id', sa.Text(), nullable=True),
    sa.Column('bin', sa.Text(), nullable=True),
    sa.Column('program', sa.Text(), nullable=True),
    sa.Column('election', sa.Text(), nullable=True),
    sa.Column('residential_units', sa.BigInteger(), nullable=True),
    sa.Column('program_units', sa.BigInteger(), nullable=True),
    sa.Column('qualifying_units', sa.BigInteger(), nullable=True),
    sa.Column('required_units', sa.BigInteger(), nullable=True),
    sa.Column('test_met', sa.Boolean(), nullable=True),
    sa.Column('ia_average', Fixed(18, 4), nullable=True),
    sa.Column('ia_invalid_designations', sa.Text(), nullable=True),
    sa.Column('ia_qualified_group_units', sa.BigInteger(), nullable=True),
    sa.Column('ia_qualified_group_average', Fixed(18, 4), nullable=True),
    sa.Column('unit_fraction', Fixed(18, 4), nullable=True),
    sa.Column('floor_space_fraction', Fixed(18, 4), nullable=True),
    sa.Column('applicable_fraction', Fixed(18, 4), nullable=True),
    sa.Column('committed_applicable_fraction', Fixed(18, 4), nullable=True),
    sa.Column('low_home_required', sa.BigInteger(), nullable=True),
    sa.Column('form_8703_line4_no_new_over_income', sa.Boolean(), nullable=True),
    sa.Column('form_8703_line6', sa.BigInteger(), nullable=True),
    sa.Column('form_8703_line7', sa.BigInteger(), nullable=True),
    sa.Column('form_8703_line8', sa.BigInteger(), nullable=True),
    sa.Column('form_8703_line9_pct', Fixed(18, 4), nullable=True),
    sa.Column('compliant', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    schema='compliance'
    )
    op.create_index('ix_program_status_org_as_of', 'program_status', ['org_id', 'as_of'], unique=False, schema='compliance')
    op.create_table('unit_status',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False, comment='evaluation date'),
    sa.Column('run_id', sa.String(length=64), nullable=False, comment='Dagster run (or caller) that evaluated'),
    sa.Column('org_id', sa.String(length=64), nullable=False, comment='organisation (registry slug)'),
    sa.Column('property_id', sa.Text(), nullable=True),
    sa.Column('building_id', sa.Text(), nullable=True),
    sa.Column('bin', sa.Text(), nullable=True),
    sa.Column('unit_id', sa.Text(), nullable=True),
    sa.Column('unit_number', sa.Text(), nullable=True),
    sa.Column('month', sa.Date(), nullable=True),
    sa.Column('bedrooms', sa.BigInteger(), nullable=True),
    sa.Column('square_feet', Fixed(18, 4), nullable=True),
    sa.Column('programs', sa.Text(), nullable=True),
    sa.Column('designation_pct', sa.BigInteger(), nullable=True),
    sa.Column('employee_unit', sa.Boolean(), nullable=True),
    sa.Column('occupied', sa.Boolean(), nullable=True),
    sa.Column('household_id', sa.Text(), nullable=True),
    sa.Column('household_size', sa.BigInteger(), nullable=True),
    sa.Column('pct_ami', Fixed(18, 4), nullable=True),
    sa.Column('income_limit', Fixed(18, 4), nullable=True),
    sa.Column('income_limit_pct', sa.BigInteger(), nullable=True),
    sa.Column('income_limit_program', sa.Text(), nullable=True),
    sa.Column('qualified_at_move_in', sa.Boolean(), nullable=True),
    sa.Column('max_gross_rent', Fixed(18, 4), nullable=True),
    sa.Column('rent_limit_program', sa.Text(), nullable=True),
    sa.Column('tenant_rent', Fixed(18, 4), nullable=True),
    sa.Column('utility_allowance', Fixed(18, 4), nullable=True),
    sa.Column('mandatory_fees', Fixed(18, 4), nullable=True),
    sa.Column('subsidy', Fixed(18, 4), nullable=True),
    sa.Column('gross_rent', Fixed(18, 4), nullable=True),
    sa.Column('rent_compliant', sa.Boolean(), nullable=True),
    sa.Column('over_income', sa.Boolean(), nullable=True),
    sa.Column('over_income_threshold', Fixed(18, 4), nullable=True),
    sa.Column('next_available_unit_hold', sa.Boolean(), nullable=True),
    sa.Column('student_status', sa.Text(), nullable=True),
    sa.Column('low_income_unit', sa.Boolean(), nullable=True),
    sa.Column('limits_source', sa.Text(), nullable=True),
    sa.Column('household_amounts', sa.Text(), nullable=True, comment='encrypted JSON: annual_income'),
    sa.PrimaryKeyConstraint('id'),
    schema='compliance'
    )
    op.create_index('ix_unit_status_org_as_of', 'unit_status', ['org_id', 'as_of'], unique=False, schema='compliance')
    op.create_table('violations',
    sa.Column('org_id', sa.String(length=64), nullable=False, comment='organisation (registry slug)'),
    sa.Column('finding_id', sa.String(length=40), nullable=False, comment='stable id: finding key + detection date'),
    sa.Column('finding_key', sa.Text(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('program', sa.Text(), nullable=False),
    sa.Column('form_8823_line', sa.Text(), nullable=True),
    sa.Column('form_8823_category', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('severity', sa.BigInteger(), nullable=True),
    sa.Column('property_id', sa.Text(), nullable=True),
    sa.Column('building_id', sa.Text(), nullable=True),
    sa.Column('bin', sa.Text(), nullable=True),
    sa.Column('unit_id', sa.Text(), nullable=True),
    sa.Column('household_id', sa.Text(), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=True),
    sa.Column('detected_on', sa.Date(), nullable=True),
    sa.Column('correction_deadline', sa.Date(), nullable=True),
    sa.Column('corrected_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('property_code', sa.Text(), nullable=True, comment='Rent Manager property ShortName'),
    sa.Column('property_name', sa.Text(), nullable=True),
    sa.Column('unit_name', sa.Text(), nullable=True, comment='Rent Manager unit name'),
    sa.Column('first_run_id', sa.String(length=64), nullable=False),
    sa.Column('last_run_id', sa.String(length=64), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('org_id', 'finding_id'),
    schema='compliance'
    )
    op.create_index('ix_violations_org_status', 'violations', ['org_id', 'status'], unique=False, schema='compliance')


def downgrade() -> None:
    op.drop_table('violations', schema='compliance')
    op.drop_table('unit_status', schema='compliance')
    op.drop_table('program_status', schema='compliance')
    op.drop_table('overall_status', schema='compliance')
    op.drop_table('household_status', schema='compliance')
    op.drop_table('household_certifications', schema='compliance')
    op.drop_table('evaluations', schema='compliance')
    op.drop_table('data_issues', schema='compliance')
    op.drop_table('assisted_households', schema='compliance')
