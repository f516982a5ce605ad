"""EstateCore warehouse: engines (db), rm_raw landing (raw), ops tables (ops), the EstateCore table catalog (tables)
and its SQLAlchemy models (models), Alembic migrations (migrate), mappings (mapping, transforms), encryption
(crypto, sensitive, keys), the loader (load) and readers (read). Pure code: no Dagster imports.

Entry points for the Dagster wiring:
- `tables.TABLES` / `tables.get(name)`: one spec per EstateCore table (sources, key, columns, parents, sensitive).
- `load.load_table(engine, org=…, table=…, run_id=…, mode=…) -> LoadReport`, `load.load_all(...)`.
- `read.column_schema(table)`, `mapping.mapping_for(org, table).lineage_deps()`.
- `migrate.upgrade(engine_or_url)`; `raw.ensure_schema(engine)` calls it.
"""
