"""Compliance status with "undetermined": the tri-state status of each program (`compliant`, `not compliant`,
`undetermined`) with the counts of properties and units that missing data left undecided, beside the existing
`compliant` boolean; the status of each evaluation; the property name and unit number of each data issue, as
Rent Manager shows them. Rows stored before keep NULL in the new columns: they were evaluated when only the boolean existed.

Revision ID: 0004_compliance_undetermined
Revises: 0003_ops_alerts
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_compliance_undetermined"
down_revision = "0003_ops_alerts"
branch_labels = None
depends_on = None

EVALUATION_STATUS = "compliant | not compliant | undetermined (NULL: evaluated before the status existed)"


def upgrade() -> None:
    op.add_column("overall_status", sa.Column("status", sa.Text(), nullable=True), schema="compliance")
    op.add_column("overall_status", sa.Column("undetermined_properties", sa.BigInteger(), nullable=True), schema="compliance")
    op.add_column("overall_status", sa.Column("undetermined_units", sa.BigInteger(), nullable=True), schema="compliance")
    op.add_column("data_issues", sa.Column("property_name", sa.Text(), nullable=True), schema="compliance")
    op.add_column("data_issues", sa.Column("unit_number", sa.Text(), nullable=True), schema="compliance")
    op.add_column("evaluations", sa.Column("status", sa.Text(), nullable=True, comment=EVALUATION_STATUS),
                  schema="compliance")


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema="compliance") as batch:
        batch.drop_column("status")
    with op.batch_alter_table("data_issues", schema="compliance") as batch:
        batch.drop_column("unit_number")
        batch.drop_column("property_name")
    with op.batch_alter_table("overall_status", schema="compliance") as batch:
        batch.drop_column("undetermined_units")
        batch.drop_column("undetermined_properties")
        batch.drop_column("status")
