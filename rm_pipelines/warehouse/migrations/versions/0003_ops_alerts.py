"""ops.alerts: failed runs (and health alerts) per org, with what failed and whether the notification went out.

Revision ID: 0003_ops_alerts
Revises: 0002_compliance
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_ops_alerts"
down_revision = "0002_compliance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=True, comment="null when the failed run belongs to no org"),
        sa.Column("kind", sa.String(length=32), nullable=False, comment="run_failure | health"),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("job_name", sa.String(length=128), nullable=True),
        sa.Column("entity", sa.String(length=80), nullable=True, comment="the failed step or asset, when one is known"),
        sa.Column("cause", sa.Text(), nullable=False, comment="what failed, never a secret"),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified", sa.String(length=16), nullable=False, comment="no_target | sent | failed"),
        sa.Column("notify_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        schema="ops",
    )
    op.create_index("ix_alerts_org_raised", "alerts", ["org_id", "raised_at"], unique=False, schema="ops")


def downgrade() -> None:
    op.drop_index("ix_alerts_org_raised", table_name="alerts", schema="ops")
    op.drop_table("alerts", schema="ops")
