"""Flows: one module per movement of data (read → call the parts → write → record in `ops`). No Dagster."""
