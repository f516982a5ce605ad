"""Dagster wiring only: resources, partitions, assets, sensors, schedules. Loaded by `load_from_defs_folder`."""
