"""Assets: EstateCore tables loaded from rm_raw — one multi_asset per org run, one asset per table.

Each table carries two in-asset checks per org partition: `quarantine` (pandera gate; ERROR when the quarantined
share exceeds the threshold, WARN otherwise) and `expectations` (its Great Expectations suite).

The quarantine check does not block: quarantined rows never reach the table, so what it would guard downstream
is completeness, and the compliance evaluation accounts for that itself — the properties whose rows wait in
quarantine are reported undetermined while every other property is evaluated (a blocking failure in one table
used to leave the whole org without an evaluation). The ERROR stays on the table, and in the org's health.
"""

import dagster as dg

from ..flows.load import LoadReport, load_table
from ..quality.gx_suites import record_result, run_suite, suite_names
from ..rentmanager.catalog import ENTITIES
from ..warehouse import tables as T
from ..warehouse.mapping import default_mapping
from ..warehouse.read import column_schema
from .automation import with_policies
from .partitions import org_partitions
from .resources import RentManagerResource, WarehouseResource

QUARANTINE_CHECK = "quarantine"
EXPECTATIONS_CHECK = "expectations"
_ENTITY_BY_PATH = {e.path: e.name for e in ENTITIES if not e.explode and not e.via}
_UDF_ENTITY = {"Property": "property_udfs", "Unit": "unit_udfs", "Tenant": "tenant_udfs", "Contact": "contact_udfs"}


class LoadConfig(dg.Config):
    mode: str = "incremental"
    """incremental: rm_raw rows landed since the last load; full: every raw row again (and soft-deletes)."""
    quarantine_threshold: float = 0.01
    """Share of quarantined rows above which the quarantine check fails as ERROR (it warns below)."""


def _lineage(spec: T.TableSpec) -> dg.TableColumnLineage:
    deps: dict[str, list[dg.TableColumnDep]] = {}
    for column, sources in default_mapping(spec.name).lineage().items():
        out = []
        for source in sources:
            if source.startswith("UDF "):  # "UDF Unit 'BIN'"
                parent_type, _, name = source[4:].partition(" ")
                entity = _UDF_ENTITY.get(parent_type)
                field = name.strip("'")
            else:
                path, _, field = source.partition(".")
                entity = _ENTITY_BY_PATH.get(path)
            if entity:
                out.append(dg.TableColumnDep(asset_key=dg.AssetKey(["rentmanager", entity]), column_name=field))
        if out:
            deps[column] = out
    return dg.TableColumnLineage(deps_by_column=deps)


def _schema(table: str) -> dg.TableSchema:
    return dg.TableSchema(columns=[
        dg.TableColumn(c["name"], c["type"], description=(c["description"] or "") + (" (encrypted, masked)" if c["sensitive"] else ""),
                       constraints=dg.TableColumnConstraints(nullable=c["nullable"]))
        for c in column_schema(table)
    ])


def _spec(spec: T.TableSpec) -> dg.AssetSpec:
    return with_policies(dg.AssetSpec(
        key=spec.asset_key,
        description=spec.description,
        group_name=spec.domain,
        kinds={"sql"},
        skippable=True,
        partitions_def=org_partitions,
        deps=[dg.AssetKey(k) for k in spec.source_assets] + [dg.AssetKey(["estatecore", p]) for p in spec.parents],
        metadata={
            "dagster/table_name": f"estatecore.{spec.name}",
            "dagster/column_schema": _schema(spec.name),
            "dagster/column_lineage": _lineage(spec),
        },
    ))


def _checks(spec: T.TableSpec) -> list[dg.AssetCheckSpec]:
    checks = [dg.AssetCheckSpec(QUARANTINE_CHECK, asset=spec.asset_key, blocking=False,
                                description="Rows failing the pandera gate are quarantined with their reasons; "
                                            "fails (ERROR) above the quarantine threshold, warns below it. Does not "
                                            "block: compliance reports the properties those rows belong to as "
                                            "undetermined and evaluates the others.")]
    if spec.name in suite_names():
        checks.append(dg.AssetCheckSpec(EXPECTATIONS_CHECK, asset=spec.asset_key,
                                        description="Great Expectations suite: keys, referential integrity, ranges."))
    return checks


def _result(report: LoadReport, engine, run_id: str) -> dg.MaterializeResult:  # noqa: ANN001
    key = dg.AssetKey(["estatecore", report.table])
    metadata = {k: v for k, v in report.as_metadata().items() if not isinstance(v, dict)}
    metadata["dagster/row_count"] = dg.MetadataValue.int(report.rows_in_table)
    metadata["quarantine_reasons"] = dg.MetadataValue.json(report.quarantine_reasons)
    if report.nul_removed:  # rows loaded after the documented NUL rule; the log names their keys
        metadata["nul_removed"] = dg.MetadataValue.json(report.nul_removed)
    metadata["preview"] = dg.MetadataValue.md(report.preview_markdown or "_no rows_")
    checks = [dg.AssetCheckResult(
        check_name=QUARANTINE_CHECK,
        asset_key=key,
        passed=report.check_passed,
        severity=dg.AssetCheckSeverity.ERROR if report.check_severity == "ERROR" else dg.AssetCheckSeverity.WARN,
        metadata={"quarantined_open": report.quarantined_open, "quarantined_share": report.quarantined_share,
                  "threshold": report.threshold, "reasons": dg.MetadataValue.json(report.quarantine_reasons)},
    )]
    if report.table in suite_names():
        suite = run_suite(engine, report.table, report.org_id)
        score = record_result(engine, suite, run_id)
        metadata["expectations_score"] = round(score, 4)
        checks.append(dg.AssetCheckResult(
            check_name=EXPECTATIONS_CHECK, asset_key=key, passed=suite.passed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={**{k: v for k, v in suite.as_metadata().items() if k != "failed"},
                      "failed": dg.MetadataValue.json(suite.as_metadata()["failed"])},
        ))
    return dg.MaterializeResult(asset_key=key, metadata=metadata, check_results=checks)


@dg.multi_asset(
    name="estatecore_load",
    specs=[_spec(s) for s in T.TABLES],
    check_specs=[c for s in T.TABLES for c in _checks(s)],
    can_subset=True,
    partitions_def=org_partitions,
    pool="estatecore_writer",
    description="Validate, map and load the selected EstateCore tables of one org from rm_raw.",
)
def estatecore_load(
    context: dg.AssetExecutionContext,
    config: LoadConfig,
    rentmanager: RentManagerResource,
    warehouse: WarehouseResource,
):
    org = rentmanager.org(context.partition_key)
    selected = [name for name in T.load_order(None) if dg.AssetKey(["estatecore", name]) in context.selected_asset_keys]
    context.log.info(f"Loading {len(selected)} EstateCore tables of org {org.id!r} ({config.mode}) into {warehouse.display_url}")
    engine = warehouse.engine
    for name in selected:
        report = load_table(engine, org=org, table=name, run_id=context.run.run_id, mode=config.mode,
                            quarantine_threshold=config.quarantine_threshold, log=context.log)
        yield _result(report, engine, context.run.run_id)
