"""The SQLite writer process (`warehouse.sqlite_writer`): transactions applied in order by a separate process, the
first failure reported and nothing applied after it, a dead writer named; and a load whose writes fail there
fails with the table named and its watermark where it was."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from rm_pipelines.flows.load import LoadError, load_table
from rm_pipelines.warehouse import ops
from rm_pipelines.warehouse.sqlite_writer import Statements, WriterProcess, WriterProcessError
from rm_pipelines_tests.warehouse import rawdata
from rm_pipelines_tests.warehouse.conftest import warehouse_engine
from rm_pipelines_tests.warehouse.helpers import execute, live, rows


@pytest.fixture
def engine(request, tmp_path):
    yield from warehouse_engine(request, tmp_path, "sqlite")


def _main(engine) -> Path:
    return Path(engine.url.database).resolve()


def _note(*values: tuple) -> Statements:
    recorded = Statements()
    for value in values:
        recorded.exec_driver_sql("INSERT INTO ops.notes (k, v) VALUES (?, ?)", value)
    return recorded


@pytest.fixture
def notes(engine):
    execute(engine, "CREATE TABLE ops.notes (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    return engine


def test_transactions_are_applied_in_order_in_their_own_transactions(notes):
    writer = WriterProcess(_main(notes))
    try:
        writer.submit(_note((1, "a"), (2, "b")))
        many = Statements()
        many.exec_driver_sql("INSERT INTO ops.notes (k, v) VALUES (?, ?)", [(k, f"v{k}") for k in range(3, 1003)])
        writer.submit(many)
        update = Statements()
        update.exec_driver_sql("UPDATE ops.notes SET v = ? WHERE k = ?", ("second", 1))
        writer.submit(update)
        writer.flush()
        # applied and committed: another connection sees them
        assert rows(notes, "SELECT k, v FROM ops.notes WHERE k IN (1, 2, 1002) ORDER BY k") == [
            (1, "second"), (2, "b"), (1002, "v1002")]
        assert rows(notes, "SELECT count(*) FROM ops.notes") == [(1002,)]
    finally:
        writer.close()


def test_the_first_failure_is_reported_and_nothing_after_it_is_applied(notes):
    writer = WriterProcess(_main(notes), depth=3)
    writer.submit(_note((1, "kept")))
    writer.submit(_note((2, "rolled back"), (1, "duplicate key")))  # fails on its second statement
    writer.submit(_note((3, "after the failure")))
    with pytest.raises(WriterProcessError, match=r"UNIQUE constraint failed: notes\.k"):
        writer.close()
    assert rows(notes, "SELECT k, v FROM ops.notes ORDER BY k") == [(1, "kept")]
    with pytest.raises(WriterProcessError, match="UNIQUE"):  # the writer stays failed
        writer.submit(_note((4, "x")))


def test_a_writer_process_that_dies_is_named_with_its_exit_code(notes):
    writer = WriterProcess(_main(notes), depth=1)
    writer.submit(_note((1, "a")))
    writer.flush()
    os.kill(writer._proc.pid, signal.SIGKILL)
    writer._proc.wait()
    with pytest.raises(WriterProcessError, match=r"exited \(exit code -9\)"):
        writer.submit(_note((2, "b")))
        writer.flush()
    writer.close()  # the error was raised once: closing does not raise it again
    assert rows(notes, "SELECT k FROM ops.notes") == [(1,)]


def test_a_recorded_transaction_cannot_read():
    with pytest.raises(TypeError, match="cannot read"):
        Statements().exec_driver_sql("SELECT 1")


def test_large_sources_are_written_by_the_writer_process(engine, org, portfolio):
    rawdata.land(engine, "acme", portfolio)
    for name in ("properties", "units"):
        default = load_table(engine, org=org, table=name, run_id="r1")
        assert default.sources[name]["writer"] == "in-process"  # a few hundred rows: not worth a process
    forced = load_table(engine, org=org, table="residents", run_id="r1", writer_process_rows=1)
    assert forced.sources["tenants"]["writer"] == "process" and forced.sources["tenants"]["writer_peak_rss_mb"] > 0
    assert forced.inserted == live(engine, "residents") > 0


def test_a_write_that_fails_in_the_writer_process_fails_the_load_and_keeps_the_watermark(engine, org, portfolio):
    rawdata.land(engine, "acme", portfolio)
    for name in ("properties", "units"):
        load_table(engine, org=org, table=name, run_id="r1")
    execute(engine, "CREATE TRIGGER refuse_residents BEFORE INSERT ON residents "
                    "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END")
    with pytest.raises(LoadError, match=r"org 'acme' table 'residents'.*the disk is full"):
        load_table(engine, org=org, table="residents", run_id="r2", writer_process_rows=1)
    assert live(engine, "residents") == 0
    assert not [s for s in ops.get_load_state(engine, "acme") if s["table_name"] == "residents"]
    execute(engine, "DROP TRIGGER refuse_residents")
    again = load_table(engine, org=org, table="residents", run_id="r3", writer_process_rows=1)
    assert again.inserted == live(engine, "residents") > 0
