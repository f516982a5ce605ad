"""EstateCore warehouse — storage only: engines (db; SQLite files and connections in sqlite_files), rm_raw landing
(raw), ops tables (ops), the run lock (locks), the EstateCore table catalog (tables) and its SQLAlchemy models
(models), Alembic migrations (migrate), mappings (mapping, transforms), encryption (crypto, sensitive, keys), bulk
writes (write; on SQLite, large loads through a writer process: sqlite_writer), readers (read) and the compliance
store (compliance_store). It runs no rules and imports neither Dagster nor the flows that use it
(`rm_pipelines.flows.load` moves rm_raw into these tables, `rm_pipelines.flows.evaluate` fills the compliance
store).

Entry points:
- `tables.TABLES` / `tables.get(name)`: one spec per EstateCore table (sources, key, columns, parents, sensitive).
- `read.column_schema(table)`, `mapping.mapping_for(org, table, fields_of).lineage_deps()`.
- `migrate.upgrade(engine_or_url)`; `raw.ensure_schema(engine)` calls it; `migrate.open_existing(url)` for reads.
"""
