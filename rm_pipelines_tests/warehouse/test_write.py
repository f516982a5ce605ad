"""Bulk writes (`write.py`) on SQLite and PostgreSQL: values survive COPY formatting exactly (escapes, nulls,
negative money, constants), and rows prepared as new upsert when another writer inserted their key meanwhile."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from rm_pipelines.flows.load import _plan
from rm_pipelines.warehouse import tables as T
from rm_pipelines.warehouse.write import Const, Writer, canon_from_db, copy_lines, new_rows

NOW = "2026-03-01 12:00:00.000000"


def _new(engine, rows: list[tuple], run_id: str = "r1"):
    """charge_types rows (rm_id, code, description, default_amount, is_cam, gl_account_rm_id, rm_updated_at)."""
    plan = _plan(T.get("charge_types"))
    by = {c: [] for c in plan.write_columns}
    for rm_id, code, desc, amount, is_cam, gl, updated in rows:
        for c, v in (("rm_id", rm_id), ("code", code), ("description", desc), ("default_amount", amount),
                     ("is_cam", is_cam), ("gl_account_rm_id", gl), ("rm_updated_at", updated),
                     ("source_hash", f"h{rm_id}")):
            by[c].append(v)
    consts = {"org_id": "acme", "location_id": 1, "is_active": True, "is_prorated": None, "rm_created_at": None,
              "custom": None, "mapping_version": "m1", "load_run_id": run_id, "created_at": NOW, "updated_at": NOW,
              "deleted_at": None}
    cols = [Const(consts[c]) if c in consts else by[c] for c in plan.write_columns]
    return plan, new_rows(engine.dialect.name, plan.write_columns, plan.storage, cols, len(rows))


def _stored(engine, plan) -> dict[int, tuple]:
    table = "charge_types" if engine.dialect.name == "sqlite" else "estatecore.charge_types"
    cols = ("code", "description", "default_amount", "is_cam", "gl_account_rm_id", "rm_updated_at", "is_active",
            "is_prorated", "load_run_id")
    with engine.connect() as conn:
        found = conn.execute(text(f"SELECT rm_id, {', '.join(cols)} FROM {table} WHERE org_id = 'acme'")).all()
    return {r[0]: tuple(canon_from_db(plan.storage[c], v) for c, v in zip(cols, r[1:])) for r in found}


def test_new_rows_round_trip_exactly(engine):
    tricky = [
        (1, "RENT", "tab\there, newline\nthere, back\\slash, cr\r, \\N literal", 125050, True, 4000, NOW),
        (2, "NEG", None, -1, False, None, "1999-12-31 23:59:59.999999"),
        (3, "ZERO", "", 0, None, 9_000_000_000, None),
        (4, "BIG", "ünïcödé ✓", 99_999_999_999_99, True, 1, NOW),
    ]
    plan, new = _new(engine, tricky)
    with engine.begin() as conn:
        Writer(conn, "charge_types", plan.storage, plan.spec.key).insert_new(new)
    stored = _stored(engine, plan)
    for rm_id, code, desc, amount, is_cam, gl, updated in tricky:
        assert stored[rm_id] == (code, desc, amount, is_cam, gl, updated, True, None, "r1"), rm_id


def test_new_rows_whose_key_appeared_meanwhile_update_it(engine):
    plan, first = _new(engine, [(7, "OLD", "before", 100, False, None, NOW)], run_id="other-writer")
    with engine.begin() as conn:
        Writer(conn, "charge_types", plan.storage, plan.spec.key).insert_new(first)
    # prepared while key 7 looked new, written after another writer inserted it
    plan, late = _new(engine, [(7, "NEW", "after", 250, True, 12, NOW), (8, "ALSO", None, 5, None, None, None)])
    with engine.begin() as conn:
        stage = Writer(conn, "charge_types", plan.storage, plan.spec.key).insert_new(late)
        if engine.dialect.name == "postgresql":  # the stage holds exactly the prepared rows until commit
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {stage}").scalar() == 2
    stored = _stored(engine, plan)
    assert set(stored) == {7, 8}
    assert stored[7] == ("NEW", "after", 250, True, 12, NOW, True, None, "r1")


def test_copy_lines_folds_constants_and_escapes_only_what_needs_it():
    blocks = list(copy_lines(["text", "int", "text", "money", "text", "datetime"],
                             [Const("a\tb"), Const(1), ["x", None, "y\\z"], [5, -105, None], Const(None), Const(None)],
                             3, batch=2))
    assert blocks == [
        "a\\tb\t1\tx\t5e-2\t\\N\t\\N\na\\tb\t1\t\\N\t-105e-2\t\\N\t\\N\n",
        "a\\tb\t1\ty\\\\z\t\\N\t\\N\t\\N\n",
    ]


@pytest.mark.postgres
def test_timestamps_stay_utc_whatever_the_session_time_zone(pg_url):
    from sqlalchemy.engine import make_url

    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.raw import ensure_schema

    url = make_url(pg_url).update_query_dict({"options": "-c TimeZone=America/Los_Angeles"})
    engine = create_warehouse_engine(url.render_as_string(hide_password=False))
    try:
        ensure_schema(engine)
        plan, new = _new(engine, [(1, "A", None, 100, None, None, NOW)])  # created_at / updated_at are constants
        with engine.begin() as conn:
            w = Writer(conn, "charge_types", plan.storage, plan.spec.key)
            w.insert_new(new)
            w.update(("deleted_at",), ("org_id", "location_id", "rm_id"), [(NOW, "acme", 1, 1)])
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "America/Los_Angeles"
            stamps = conn.exec_driver_sql("SELECT created_at, updated_at, rm_updated_at, deleted_at "
                                          "FROM estatecore.charge_types WHERE rm_id = 1").one()
        assert [canon_from_db("datetime", v) for v in stamps] == [NOW] * 4
    finally:
        engine.dispose()


@pytest.mark.parametrize("count", [1, 499, 500, 501, 1_234])
def test_grouped_upserts_write_every_row_once_with_its_own_values(engine, count):
    """SQLite writes several rows per statement: every row arrives with its own values whatever the remainder of
    the grouping, and an upsert of existing keys updates exactly those rows."""
    plan, new = _new(engine, [(k, f"C{k}", f"d{k}", k * 100, k % 2 == 0, None, NOW) for k in range(1, count + 1)])
    with engine.begin() as conn:
        w = Writer(conn, "charge_types", plan.storage, plan.spec.key)
        w.insert_new(new)
        again = [(k, f"C{k}", "second", 7, None, None, NOW) for k in sorted({1, count})]
        _, rows = _new(engine, again, run_id="r2")
        w.upsert(plan.write_columns, list(zip(*[[c.value] * rows.n if isinstance(c, Const) else c for c in rows.cols])))
    stored = _stored(engine, plan)
    assert sorted(stored) == list(range(1, count + 1))
    assert stored[1][1:3] == stored[count][1:3] == ("second", 7)
    for k in range(2, count):
        assert stored[k][:3] == (f"C{k}", f"d{k}", k * 100), k
