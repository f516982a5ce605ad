"""Jobs: the Rent Manager sync of one org (a partition of `org`)."""

import dagster as dg

rentmanager_sync_job = dg.define_asset_job(
    name="rentmanager_sync",
    selection=dg.AssetSelection.key_prefixes(["rentmanager"], ["estatecore"], ["compliance"])
    | dg.AssetSelection.assets(["writeback", "compliance_udfs"]),
    description="Extract every Rent Manager entity of one org into rm_raw, validate and load the EstateCore "
                "tables (incremental unless configured full), then evaluate the org's compliance and enqueue the "
                "results that changed for Rent Manager (orgs with write-back).",
    tags={"rm/job": "sync"},
)
