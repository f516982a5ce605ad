"""ops.report_index: every report file rendered (org, kind, period, property/BIN, path, sha256, evaluation, run).

Revision ID: 0005_report_index
Revises: 0004_compliance_undetermined
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_report_index"
down_revision = "0004_compliance_undetermined"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_index',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False, comment='report kind (rent_roll, form_8823, aoc …)'),
    sa.Column('period', sa.String(length=7), nullable=False, comment='YYYY-MM (monthly) or YYYY (annual)'),
    sa.Column('scope', sa.String(length=200), nullable=False, comment='property ShortName[-BIN], or the org for org-wide reports'),
    sa.Column('property_id', sa.String(length=64), nullable=True),
    sa.Column('bin', sa.String(length=40), nullable=True),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False, comment='application/pdf | application/xml | text/csv'),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False, comment='of the file'),
    sa.Column('evidence_sha256', sa.String(length=64), nullable=True, comment='of the stored rows embedded as evidence'),
    sa.Column('blanks', sa.Integer(), nullable=False, comment='figures left to fill (not in Rent Manager data)'),
    sa.Column('evaluation_id', sa.BigInteger(), nullable=False, comment='compliance.evaluations id rendered from'),
    sa.Column('evaluation_as_of', sa.Date(), nullable=False),
    sa.Column('evaluation_run_id', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False, comment='run that rendered the file'),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    schema='ops'
    )
    op.create_index('ux_report_index_doc', 'report_index', ['org_id', 'kind', 'period', 'scope', 'media_type'],
                    unique=True, schema='ops')


def downgrade() -> None:
    op.drop_index('ux_report_index_doc', table_name='report_index', schema='ops')
    op.drop_table('report_index', schema='ops')
