"""Webhooks and write-back: `ops.webhook_inbox` (Rent Manager deliveries, committed before they are answered),
`ops.outbox` (changes EstateCore wants written to Rent Manager) and `ops.conflicts` (fields both sides changed,
waiting for a person).

Revision ID: 0007_webhooks_writeback
Revises: 0006_specialties
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_webhooks_writeback"
down_revision = "0006_specialties"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OPEN_DELIVERY = "status IN ('pending', 'rejected', 'ignored') AND claimed_run_id IS NULL"


def upgrade() -> None:
    op.create_table(
        "webhook_inbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False, comment="inbox position (the webhook sensor's cursor)"),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True,
                  comment="LocationID of the delivery (null: every org location)"),
        sa.Column("corporate_id", sa.String(length=64), nullable=True),
        sa.Column("event_type", sa.String(length=80), nullable=True,
                  comment="EventType as Rent Manager sent it, e.g. Tenant_Edit"),
        sa.Column("entity", sa.String(length=80), nullable=True, comment="catalog entity the event refreshes"),
        sa.Column("operation", sa.String(length=8), nullable=True, comment="Add | Edit | Delete"),
        sa.Column("ids", sa.Text(), nullable=True, comment="JSON IDParentIDDict: {changed id: parent id}"),
        sa.Column("digest", sa.String(length=64), nullable=False,
                  comment="sha256 of the delivery (repeats collapse onto one row)"),
        sa.Column("status", sa.String(length=12), nullable=False, comment="pending | processed | rejected | ignored"),
        sa.Column("reason", sa.Text(), nullable=True, comment="why a delivery was rejected or ignored"),
        sa.Column("body", sa.Text(), nullable=True, comment="a rejected delivery's body as received (truncated)"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False, comment="times Rent Manager delivered it"),
        sa.Column("claimed_run_id", sa.String(length=64), nullable=True, comment="targeted run working on it"),
        sa.Column("processed_run_id", sa.String(length=64), nullable=True,
                  comment="targeted run that succeeded with it"),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        schema="ops",
    )
    op.create_index("ix_webhook_inbox_org_status", "webhook_inbox", ["org_id", "status", "id"], schema="ops")
    op.create_index("ux_webhook_inbox_open_digest", "webhook_inbox", ["org_id", "digest"], unique=True, schema="ops",
                    sqlite_where=sa.text(_OPEN_DELIVERY), postgresql_where=sa.text(_OPEN_DELIVERY))

    op.create_table(
        "outbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=80), nullable=False,
                  comment="Rent Manager resource written, e.g. ServiceManagerIssues"),
        sa.Column("rm_key", sa.BigInteger(), nullable=False,
                  comment="key of the record (UDF values: of the parent record)"),
        sa.Column("kind", sa.String(length=8), nullable=False, comment="record | udf"),
        sa.Column("fields", sa.Text(), nullable=False, comment="JSON {field: value} EstateCore wants written"),
        sa.Column("base", sa.Text(), nullable=False, comment="JSON {field: value} as last read from Rent Manager"),
        sa.Column("base_version", sa.Text(), nullable=True, comment="JSON UpdateDate / ConcurrencyID as last read"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False, comment="pending | sent | conflict | failed | done"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("save_options", sa.Text(), nullable=True,
                  comment="comma list of saveOptions to send (a person's override)"),
        sa.Column("run_id", sa.String(length=64), nullable=True, comment="run that last worked on it"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="ops",
    )
    op.create_index("ix_outbox_org_status", "outbox", ["org_id", "status", "id"], schema="ops")

    op.create_table(
        "conflicts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=80), nullable=False),
        sa.Column("rm_key", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("base", sa.Text(), nullable=True, comment="JSON value both sides started from"),
        sa.Column("ours", sa.Text(), nullable=True, comment="JSON value EstateCore wanted"),
        sa.Column("theirs", sa.Text(), nullable=True, comment="JSON value found in Rent Manager"),
        sa.Column("theirs_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False, comment="open | ours | theirs"),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        schema="ops",
    )
    op.create_index("ix_conflicts_org_status", "conflicts", ["org_id", "status"], schema="ops")


def downgrade() -> None:
    op.drop_table("conflicts", schema="ops")
    op.drop_table("outbox", schema="ops")
    op.drop_table("webhook_inbox", schema="ops")
