"""Flows: one module per movement of data, each reading like the data flow it runs. A flow opens sessions,
calls the parts (rentmanager, warehouse, quality, compliance, reports) and records what happened in `ops`; it
never imports Dagster. The faces (`defs/`, `cli/`) call flows.

- `extract`: Rent Manager → rm_raw (watermarks, deletes, the sync-run record)
- `load`: rm_raw → EstateCore tables (validate, map, upsert, audit)
- `evaluate`: EstateCore → compliance snapshots and the findings ledger
- `render`: compliance → report files (PDF/A-3b with their evidence, XML + CSV) and `ops.report_index`
- `specialties`: EstateCore → student housing, commercial, HOA and asset-management views
"""
