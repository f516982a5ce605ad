"""Encrypt the figures household income can be recomputed from: `compliance.unit_status.pct_ami` (income as a
share of the area median, which with the stored income limit gives the income back) and
`compliance.assisted_households.ttp` (total tenant payment, 30 % of monthly adjusted income) join the row's
encrypted `household_amounts` token; their plaintext columns go.

Rows stored before are moved, not lost: each plaintext value is added to its row's token (decrypted, extended,
encrypted again with the configured key) before the column is dropped; the downgrade restores them.

Revision ID: 0008_encrypt_income_derivatives
Revises: 0007_webhooks_writeback
Create Date: 2026-12-04
"""

from __future__ import annotations

from decimal import Decimal

import orjson
import sqlalchemy as sa
from alembic import op

from rm_pipelines.warehouse.types import Fixed

revision = "0008_encrypt_income_derivatives"
down_revision = "0007_webhooks_writeback"
branch_labels = None
depends_on = None

SCHEMA = "compliance"
TOKEN = "household_amounts"
MOVED = {"unit_status": ("pct_ami", Fixed(18, 4)), "assisted_households": ("ttp", sa.BigInteger())}
TOKEN_FIELDS = {"unit_status": ("annual_income",), "assisted_households": ("adjusted_income", "annual_income")}


def _comment(name: str, *extra: str) -> str:
    return "encrypted JSON: " + ", ".join(sorted((*TOKEN_FIELDS[name], *extra)))


def _table(name: str, column: str, type_: sa.types.TypeEngine) -> sa.Table:
    return sa.Table(name, sa.MetaData(schema=SCHEMA), sa.Column("id", sa.BigInteger, primary_key=True),
                    sa.Column(column, type_), sa.Column(TOKEN, sa.Text))


def _keyring():  # noqa: ANN202 — only asked for when there are values to move
    from rm_pipelines.warehouse.crypto import get_keyring

    return get_keyring()


def upgrade() -> None:
    conn = op.get_bind()
    for name, (column, type_) in MOVED.items():
        t = _table(name, column, type_)
        rows = conn.execute(sa.select(t.c.id, t.c[column], t.c[TOKEN]).where(t.c[column].is_not(None))).all()
        if rows:
            ring = _keyring()
            plain = ring.decrypt_many([r[2] for r in rows])
            payloads = []
            for r, text_ in zip(rows, plain):
                amounts = orjson.loads(text_) if text_ else {}
                amounts[column] = str(r[1])
                payloads.append(orjson.dumps(dict(sorted(amounts.items()))).decode())
            tokens = ring.encrypt_many(payloads)
            conn.execute(sa.update(t).where(t.c.id == sa.bindparam("_id")).values({TOKEN: sa.bindparam("_token")}),
                         [{"_id": r[0], "_token": tok} for r, tok in zip(rows, tokens)])
        with op.batch_alter_table(name, schema=SCHEMA) as batch:
            batch.drop_column(column)
            batch.alter_column(TOKEN, existing_type=sa.Text(), existing_nullable=True,
                               existing_comment=_comment(name), comment=_comment(name, column))


def downgrade() -> None:
    conn = op.get_bind()
    for name, (column, type_) in MOVED.items():
        op.add_column(name, sa.Column(column, type_, nullable=True), schema=SCHEMA)
        with op.batch_alter_table(name, schema=SCHEMA) as batch:
            batch.alter_column(TOKEN, existing_type=sa.Text(), existing_nullable=True,
                               existing_comment=_comment(name, column), comment=_comment(name))
        t = _table(name, column, type_)
        rows = conn.execute(sa.select(t.c.id, t.c[TOKEN]).where(t.c[TOKEN].is_not(None))).all()
        if not rows:
            continue
        ring = _keyring()
        updates = []
        for r, text_ in zip(rows, ring.decrypt_many([r[1] for r in rows])):
            amounts = orjson.loads(text_) if text_ else {}
            if amounts.get(column) is None:
                continue
            value = Decimal(amounts.pop(column))
            updates.append({"_id": r[0], "_value": int(value) if column == "ttp" else value,
                            "_token": orjson.dumps(amounts).decode() if amounts else None})
        if updates:
            tokens = ring.encrypt_many([u["_token"] for u in updates])
            for u, tok in zip(updates, tokens):
                u["_token"] = tok
            conn.execute(sa.update(t).where(t.c.id == sa.bindparam("_id")).values(
                {column: sa.bindparam("_value"), TOKEN: sa.bindparam("_token")}), updates)
