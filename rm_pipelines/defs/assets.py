"""Assets: Rent Manager extraction — one multi_asset per org run, one asset key per catalog entity."""


from typing import Literal

import dagster as dg

from ..flows.extract import EntityReport, OrgSync, SyncReport
from ..flows.inbox import run_targeted_sync
from ..rentmanager.catalog import ENTITIES, Entity
from ..warehouse.raw import RAW_SCHEMA
from .automation import with_policies
from .partitions import org_partitions
from .resources import RentManagerResource, WarehouseResource

RAW_COLUMN_SCHEMA = dg.TableSchema(columns=[dg.TableColumn(name, type_) for name, type_ in RAW_SCHEMA])


class ExtractConfig(dg.Config):
    mode: Literal["incremental", "full", "keyscan", "targeted"] = "incremental"
    """incremental: UpdateDate ≥ watermark − overlap (entities without a change field are always full, UDF values
    only when the org's `rentmanager.udf_refresh` is every_run);
    full: everything, and keys that disappeared (confirmed by key) are flagged deleted;
    keyscan: only the keys of incremental entities are read, and keys that disappeared are flagged deleted; UDF
    values are read in full (unless the org's `rentmanager.udf_refresh` is every_run: incremental runs read them);
    entities a run does not read are reported with mode `deferred`, so the EstateCore load of the run still runs;
    targeted: what the webhook inbox names, up to `inbox_through` (launched by rentmanager_webhook_sensor)."""
    inbox_through: int | None = None
    """targeted mode: the highest webhook inbox position the run covers."""
    allow_mass_delete: bool = False
    """Let a full sync flag more than the registry's `max_delete_share` of an entity deleted (a property sold).
    Without it such a run flags nothing and fails, so a server that answers short pages cannot empty a table."""


def _spec(entity: Entity) -> dg.AssetSpec:
    description = f"{entity.description}. Rent Manager `/{entity.path}`" + (
        f" (embedded `{entity.explode}`)" if entity.explode else ""
    ) + f", landed in `rm_raw.{entity.raw_table}`; " + (
        f"incremental on `{entity.cursor}`." if entity.incremental else
        "read in full on the org's `rentmanager.udf_refresh` cadence (default: with the daily key scan) and "
        "refreshed per record by webhook events where Rent Manager sends them (tenants, contacts)." if entity.udf else "fully refreshed every run."
    )
    return with_policies(dg.AssetSpec(
        key=entity.asset_path,
        description=description,
        group_name="rentmanager",
        kinds={"rentmanager", "sql"},
        skippable=True,
        partitions_def=org_partitions,
        metadata={
            "rentmanager/resource": entity.path,
            "rentmanager/key": entity.key,
            "rentmanager/cursor": entity.cursor or "none (full refresh)",
            "dagster/table_name": f"rm_raw.{entity.raw_table}",
            "dagster/column_schema": RAW_COLUMN_SCHEMA,
        },
        deps=[dg.AssetKey(["rentmanager", entity.via])] if entity.via else [],
    ))


def _result(report: EntityReport) -> dg.MaterializeResult:
    held = report.table_rows if report.table_rows is not None else report.rows
    targeted = {"ids_requested": report.targeted_ids} if report.mode == "targeted" else {}
    return dg.MaterializeResult(
        asset_key=dg.AssetKey(["rentmanager", report.entity]),
        metadata={
            **targeted,
            # the rows the org holds in rm_raw (what the table is), then what this run did to it
            "dagster/row_count": dg.MetadataValue.int(held),
            "mode": report.mode,  # deferred: UDF values left to the key scan (rentmanager.udf_refresh), not read
            "rows_this_run": report.rows,
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "quarantined": report.quarantined,
            "duplicate_keys": report.duplicates,
            "marked_deleted": report.marked_deleted,
            "confirmed_present": report.confirmed_present,
            "mass_delete": report.mass_delete,
            "pages": report.pages,
            "requests": report.requests,
            "throttled_429": report.throttled,
            "retries": report.retries,
            "seconds": dg.MetadataValue.float(report.seconds),
            "watermark": report.watermark.isoformat() if report.watermark else "none",
        },
    )


@dg.multi_asset(
    name="rentmanager_extract",
    specs=[_spec(e) for e in ENTITIES if not e.via] + [_spec(e) for e in ENTITIES if e.via],
    can_subset=True,
    partitions_def=org_partitions,
    pool="rm_api",
    description="Extract the selected Rent Manager entities of one org through the Web API into rm_raw.",
)
def rentmanager_extract(
    context: dg.AssetExecutionContext,
    config: ExtractConfig,
    rentmanager: RentManagerResource,
    warehouse: WarehouseResource,
):
    org = rentmanager.org(context.partition_key)
    allowed = set(org.entity_names)  # the registry's `entities:` selection
    selected = [e.name for e in ENTITIES
                if dg.AssetKey(e.asset_path) in context.selected_asset_keys and e.name in allowed]
    context.log.info(
        f"Syncing {len(selected)} Rent Manager entities of org {org.id!r} ({config.mode}) into {warehouse.display_url}"
    )
    if config.mode == "targeted":
        if config.inbox_through is None:
            raise dg.Failure("targeted mode needs inbox_through (the webhook inbox position the run covers)")
        targeted = run_targeted_sync(warehouse.engine, org, rentmanager.open_client, run_id=context.run.run_id,
                                     through=config.inbox_through, entities=set(selected), logger=context.log)
        report = targeted.sync or SyncReport(org_id=org.id, mode="targeted")
    else:
        sync = OrgSync(org, warehouse.engine, rentmanager.open_client, run_id=context.run.run_id, logger=context.log,
                       allow_mass_delete=config.allow_mass_delete)
        report = sync.run(selected, mode=config.mode)
    for name in selected:
        entity_report = report.entities.get(name)
        if entity_report is not None and not entity_report.error:
            yield _result(entity_report)
    if report.errors:
        raise dg.Failure(
            description=f"Rent Manager sync of org {org.id!r} failed ({len(report.errors)} error(s)):\n"
                        + "\n".join(report.errors),
            metadata={"errors": dg.MetadataValue.json(report.errors), "requests": report.requests},
        )
    context.log.info(
        f"Org {org.id!r}: {sum(r.rows for r in report.entities.values())} rows, {report.requests} requests, "
        f"{report.throttled} throttled, {report.seconds:.1f}s"
    )
