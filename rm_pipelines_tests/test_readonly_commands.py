"""Read-only commands open what exists and never create a database, a file or a schema."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from rm_pipelines.cli import main


def _files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*"))


@pytest.mark.parametrize("argv", [["compliance", "status", "--org", "demo"], ["db", "current"], ["limits", "list"]])
def test_a_read_only_command_on_a_fresh_data_dir_creates_nothing(argv, tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("RM_PIPELINES_DATA_DIR", str(data))
    monkeypatch.delenv("ESTATECORE_DATABASE_URL", raising=False)
    code = main(argv)
    out = capsys.readouterr()
    assert not data.exists() or _files(data) == [], _files(data)
    if argv[0] != "limits":
        assert code != 0 and "rm-pipelines db upgrade" in out.out + out.err


@pytest.mark.postgres
def test_compliance_status_on_an_empty_postgresql_database_creates_no_schema(pg_url, capsys):
    assert main(["compliance", "status", "--org", "demo", "--url", pg_url]) == 2
    assert "rm-pipelines db upgrade" in capsys.readouterr().err
    assert main(["db", "current", "--url", pg_url]) == 1
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        schemas = set(conn.execute(text("SELECT schema_name FROM information_schema.schemata")).scalars())
    engine.dispose()
    assert not schemas & {"estatecore", "rm_raw", "ops", "compliance"}
