"""EstateCore → compliance: read an org's tables, evaluate its compliance on a date, reconcile the findings
ledger and store the evaluation. No Dagster here; the `compliance_evaluation` asset and the CLI call it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine

from ..compliance import checks
from ..compliance import portfolio as P
from ..compliance.inputs import TABLES_READ, area_codes_from_limits, build_inputs, property_id
from ..compliance.limits_store import stored_library
from ..compliance.quarantine import incomplete_properties
from ..warehouse import ops
from ..warehouse.compliance_store import (
    StoredEvaluation,
    ensure_moves_forward,
    load_findings,
    write_evaluation,
)
from ..warehouse.locks import org_lock
from ..warehouse.read import read_frame


def read_input_tables(engine: Engine, org_id: str) -> dict[str, list[dict[str, Any]]]:
    """The live EstateCore rows the compliance inputs are built from, sensitive values (incl. sensitive UDF
    values) decrypted."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in TABLES_READ:
        df = read_frame(engine, name, org_id, decrypt=True)
        out[name] = df.astype(object).where(df.notna(), None).to_dict("records")
    return out


@dataclass(frozen=True)
class OrgEvaluation:
    """An org's evaluation: its inputs, the engine's result, what was stored and the completeness checks."""

    inputs: Any
    result: P.PortfolioResult
    stored: StoredEvaluation
    checks: list
    limits_provider: Any
    incomplete: dict[str, str] = dataclasses.field(default_factory=dict)
    """Property id → why its data is incomplete (rows in quarantine): evaluated as far as it goes, undetermined."""


def evaluate_org(engine: Engine, org: Any, *, as_of: date, run_id: str, data_dir: Any = None,
                 limits_provider: Any = None, lock_wait_seconds: float = 0.0) -> OrgEvaluation:
    """Read the org's EstateCore tables, evaluate compliance on ``as_of`` against the HUD limits (bundled +
    imported, `rm-pipelines limits import`), reconcile with the stored findings and store everything."""
    with org_lock(engine, org.id, holder=f"compliance evaluation {run_id}", wait_seconds=lock_wait_seconds):
        return _evaluate(engine, org, as_of=as_of, run_id=run_id, data_dir=data_dir, limits_provider=limits_provider)


def _evaluate(engine: Engine, org: Any, *, as_of: date, run_id: str, data_dir: Any,
              limits_provider: Any) -> OrgEvaluation:
    ensure_moves_forward(engine, org.id, as_of)  # before the work, not only before the write
    cfg = org.compliance
    library = limits_provider or stored_library(data_dir, backfill_earliest=cfg.backfill_earliest_limits)
    tables = read_input_tables(engine, org.id)
    inputs = build_inputs(tables, as_of=as_of, area_codes=area_codes_from_limits(library))
    incomplete, unplaced = _incomplete(engine, org.id, tables, inputs)
    result = inputs.evaluate(library, cfg.settings(), previous_findings=load_findings(engine, org.id),
                             incomplete=incomplete)
    issues = [_data_issue(inputs, i) for i in inputs.issues]  # input problems: unknown program names, dates …
    issues += [P.DataIssue(q["table_name"], str(q["rm_key"]), None, "in quarantine, and its property cannot be told: "
                           + "; ".join(q["reasons"])) for q in unplaced]
    if issues:
        result = dataclasses.replace(result, data_issues=issues + list(result.data_issues))
    stored = write_evaluation(engine, org.id, result, run_id, inputs)
    return OrgEvaluation(inputs, result, stored, checks.run_all(inputs, result, library), library, incomplete)


def _data_issue(inputs: Any, issue: Any) -> P.DataIssue:
    """An input problem as a data issue, under its property's Rent Manager name when its key names one
    (``{property_id}`` or ``{property_id}/U{unit}``)."""
    property_id = issue.key.split("/", 1)[0]
    labels = inputs.property_labels.get(property_id)
    return P.DataIssue(issue.table, issue.key, property_id if labels else None, issue.message,
                       labels[1] if labels else None)


def _incomplete(engine: Engine, org_id: str, tables: dict[str, list[dict[str, Any]]],
                inputs: Any) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The org's properties whose input rows wait in quarantine (`compliance/quarantine.py`): those in the
    portfolio, and those whose own row waits in quarantine (a property that loaded but holds no program is not
    evaluated anyway). Also the quarantined input rows that name no property we know."""
    quarantined = [q for q in ops.open_quarantine(engine, org_id) if q["table_name"] in TABLES_READ]
    if not quarantined:
        return {}, []
    found, unplaced = incomplete_properties(quarantined, tables, property_id)
    evaluated = {p.property_id for p in inputs.properties}
    waiting = {property_id(q["org_id"], q["location_id"], int(q["rm_key"])) for q in quarantined
               if q["entity"] == "properties" and str(q["rm_key"]).isdigit()}
    return {pid: why for pid, why in found.items() if pid in evaluated or pid in waiting}, unplaced
