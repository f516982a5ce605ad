"""EstateCore → Rent Manager: enqueue changes in `ops.outbox`, post them, resolve conflicts. No Dagster here.

Enqueueing reads the record as EstateCore last landed it (rm_raw): its fields' values are the base of the change,
its UpdateDate / ConcurrencyID the version it is sent with. A change that alters nothing is not enqueued; one for a
record that already has a pending change merges into it.

Posting (`post_pending`), per location and batch (POST array upsert, `writeback.batch_size` records):
- accepted → the records are re-read by key and landed in rm_raw, the EstateCore tables they feed are loaded;
  a row is `done` when the re-read shows what it asked for;
- 409 → each record alone; one that still conflicts is re-read and the org's per-field policy decides
  (`writeback.policies`): merge and retry, keep Rent Manager's value, or record a conflict for a person;
- 412 → the row fails naming the save option Rent Manager asks for (`writeback retry --save-option` sends it);
- a lost answer (timeout, dropped connection, 5xx) → never re-sent blindly: the record is re-read, and the write
  counts as applied if Rent Manager holds it, is sent again only if the record did not change meanwhile, and
  otherwise goes through the conflict policy.
Every write and every decision is audited in `ops.audit_log` (table `rentmanager.<Resource>`).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select

from ..orgs import Org, WritebackConfig
from ..rentmanager.catalog import get as catalog_get
from ..rentmanager.catalog import plan_streams
from ..rentmanager.client import RentManagerClient
from ..rentmanager.errors import ConflictError, PreconditionFailedError, RentManagerError, ServerError, TransportError
from ..warehouse import compliance_store, outbox
from ..warehouse.locks import org_lock
from ..warehouse.models import table as ec_table
from ..warehouse.raw import RawLander
from ..writeback.policies import resolve, same
from ..writeback.resources import Writable, policy_field, writable
from .extract import ClientFactory, _rows
from .inbox import tables_for
from .load import load_table

log = logging.getLogger(__name__)

_OPTION = re.compile(r"saveOptions=([A-Za-z]+)|\b(Ignore[A-Za-z]+)\b")
LOST_ANSWER = (TransportError, ServerError)


class WritebackError(ValueError):
    """A change that cannot be enqueued or resolved; the message says why and what to do."""


def _config(org: Org) -> WritebackConfig:
    if org.writeback is None:
        raise WritebackError(f"org {org.id!r} has no `writeback:` section in the registry: EstateCore writes nothing "
                             "to its Rent Manager")
    return org.writeback


def _location(org: Org, location_id: int | None) -> int:
    if location_id is None:
        return org.locations[0].id
    if location_id not in {loc.id for loc in org.locations}:
        raise WritebackError(f"org {org.id!r} has no location {location_id}")
    return location_id


# ------------------------------------------------------------------------------------------------ enqueue


def _current_record(lander: RawLander, w: Writable, location_id: int, key: int) -> dict[str, Any]:
    found = lander.payloads(w.catalog_entity, location_id, keys=[key])
    if not found:
        raise WritebackError(f"{w.resource} {key} (location {location_id}) is not in EstateCore's copy of Rent Manager "
                             "(rm_raw): sync it first, so the change has a base to be checked against")
    return found[0]


def _current_udfs(lander: RawLander, w: Writable, location_id: int, keys: list[int]) -> dict[int, dict[str, dict]]:
    """parent key → UDF name → the value record as last landed."""
    entity = catalog_get(w.udf_entity or "")
    out: dict[int, dict[str, dict]] = defaultdict(dict)
    for record in lander.payloads(entity, location_id, parents=keys):
        parent = record.get(entity.parent_key or "")
        if isinstance(parent, int) and isinstance(record.get("Name"), str):
            out[parent][record["Name"]] = record
    return out


def _udf_base(values: dict[str, dict], names: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    base = {n: values[n].get("Value") if n in values else None for n in names}
    version = {n: {"UserDefinedValueID": values[n].get("UserDefinedValueID"), "UpdateDate": values[n].get("UpdateDate")}
               for n in names if n in values}
    return base, version


def _store(engine: Engine, org: Org, w: Writable, location_id: int, key: int, kind: str, wanted: dict[str, Any],
           base: dict[str, Any], version: dict[str, Any], reason: str, requested_by: str) -> int | None:
    """Enqueue the fields of `wanted` that differ from Rent Manager's values (`base`), merged into the record's
    pending change if it has one — which also drops the fields Rent Manager now holds as wanted, so a change that
    was superseded before it was posted is never written. Returns the row id (None: nothing to write)."""
    changed = {f: v for f, v in wanted.items() if not same(v, base.get(f))}
    existing = outbox.find_pending(engine, org.id, location_id, w.resource, kind, key)
    if existing is None:
        if not changed:
            return None
        return outbox.add(engine, org_id=org.id, location_id=location_id, resource=w.resource, rm_key=key, kind=kind,
                          fields=changed, base={f: base.get(f) for f in changed},
                          base_version={k: v for k, v in version.items() if kind == "record" or k in changed},
                          reason=reason, requested_by=requested_by)
    fields = {f: v for f, v in existing.fields.items() if f not in wanted} | changed
    if not fields:
        outbox.set_fields(engine, existing.id, status="done",
                          reason=f"{existing.reason}; superseded: Rent Manager already holds the values wanted")
        return None
    merged_base = {f: existing.base.get(f, base.get(f)) for f in fields}
    merged_version = ({**version, **existing.base_version} if kind == "udf" else existing.base_version or version)
    outbox.set_fields(engine, existing.id, fields=fields, base=merged_base, base_version=merged_version,
                      reason=reason if reason in existing.reason else f"{existing.reason}; {reason}")
    return existing.id


def enqueue(engine: Engine, org: Org, *, resource: str, rm_key: int, fields: dict[str, Any], reason: str,
            requested_by: str, kind: str = "record", location_id: int | None = None) -> int | None:
    """Ask for fields of a Rent Manager record (kind `record`) or its UDF values by name (kind `udf`) to be
    written. Returns the outbox row id, or None when Rent Manager already holds these values."""
    _config(org)
    w = writable(resource)
    location_id = _location(org, location_id)
    if not fields:
        raise WritebackError("nothing to write: give at least one field")
    lander = RawLander(engine, org_id=org.id, run_id=None)
    if kind == "record":
        record = _current_record(lander, w, location_id, rm_key)
        unknown = [f for f in fields if f not in record]
        if unknown:
            raise WritebackError(f"{resource} has no field(s) {', '.join(unknown)} (known: {', '.join(sorted(record))})")
        base = {f: record.get(f) for f in fields}
        version = {f: record.get(f) for f in w.concurrency if f in record}
    elif kind == "udf":
        if w.udf_entity is None:
            raise WritebackError(f"EstateCore does not write UDF values of {resource}")
        _current_record(lander, w, location_id, rm_key)
        base, version = _udf_base(_current_udfs(lander, w, location_id, [rm_key]).get(rm_key, {}), list(fields))
        fields = {n: None if v is None else str(v) for n, v in fields.items()}  # Rent Manager keeps UDFs as text
    else:
        raise WritebackError(f"kind must be 'record' or 'udf', not {kind!r}")
    return _store(engine, org, w, location_id, rm_key, kind, fields, base, version, reason, requested_by)


def enqueue_work_order_status(engine: Engine, org: Org, work_order_id: int, status: str | int, *, requested_by: str,
                              reason: str = "work-order status changed in EstateCore",
                              location_id: int | None = None) -> int | None:
    """Set a work order's status (by name or ServiceManagerStatusID); a closed status also closes the issue."""
    location_id = _location(org, location_id)
    known = RawLander(engine, org_id=org.id, run_id=None).payloads(catalog_get("service_manager_statuses"), location_id)
    statuses = [s for s in known if str(s.get("ServiceManagerStatusID")) == str(status)
                or str(s.get("Name", "")).strip().lower() == str(status).strip().lower()]
    if not statuses:
        names = ", ".join(sorted(str(s.get("Name")) for s in known)) or "none synced yet"
        raise WritebackError(f"work-order status {status!r} is not a Rent Manager status of org {org.id!r} "
                             f"({names})")
    chosen = statuses[0]
    fields: dict[str, Any] = {"StatusID": chosen["ServiceManagerStatusID"]}
    if "IsClosed" in chosen:
        fields["IsClosed"] = bool(chosen["IsClosed"])
    return enqueue(engine, org, resource="ServiceManagerIssues", rm_key=work_order_id, fields=fields,
                   reason=f"{reason}: {chosen.get('Name')}", requested_by=requested_by, location_id=location_id)


def enqueue_violation_note(engine: Engine, org: Org, violation_id: int, note: str, *, requested_by: str,
                           reason: str = "HOA violation note from EstateCore",
                           location_id: int | None = None) -> int | None:
    """Write an HOA violation's resolution note (ResolveAction: what the owner must do, or what was done)."""
    if not note.strip():
        raise WritebackError("the note is empty")
    return enqueue(engine, org, resource="Violations", rm_key=violation_id, fields={"ResolveAction": note.strip()},
                   reason=reason, requested_by=requested_by, location_id=location_id)


# --------------------------------------------------------------------------------- compliance → UDF values

COMPLIANT, OUT_OF_COMPLIANCE, UNDETERMINED = "In compliance", "Out of compliance", "Undetermined"


@dataclass
class ComplianceWriteback:
    as_of: date | None = None
    households: int = 0
    units: int = 0
    enqueued: int = 0
    """Outbox rows created or extended (records with at least one changed value)."""
    values_changed: int = 0
    unchanged: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def _split(key: str | None, prefix: str) -> tuple[int, int] | None:
    """`org:loc:L123` → (loc, 123) for the given prefix letter."""
    parts = (key or "").split(":")
    if len(parts) < 3 or not parts[-1].startswith(prefix) or not parts[-1][1:].isdigit() or not parts[-2].isdigit():
        return None
    return int(parts[-2]), int(parts[-1][1:])


def household_statuses(households: list[dict], units: list[dict], findings: list[dict]) -> dict[str, str]:
    """household id → In compliance | Out of compliance | Undetermined. A household is out of compliance with an
    open finding of its own or of its unit; undetermined when its unit's status could not be decided (missing
    reference data is never read as compliant)."""
    open_by_household: set[str] = set()
    open_by_unit: set[str] = set()
    for f in findings:
        if f.get("status") == "corrected":
            continue
        if f.get("household_id"):
            open_by_household.add(f["household_id"])
        elif f.get("unit_id"):
            open_by_unit.add(f["unit_id"])
    unit_known = {u["unit_id"]: u.get("low_income_unit") is not None for u in units}
    out = {}
    for h in households:
        hid = h["household_id"]
        if hid in open_by_household or h.get("unit_id") in open_by_unit:
            out[hid] = OUT_OF_COMPLIANCE
        elif not unit_known.get(h.get("unit_id"), False):
            out[hid] = UNDETERMINED
        else:
            out[hid] = COMPLIANT
    return out


def enqueue_compliance_udfs(engine: Engine, org: Org, *, requested_by: str = "compliance evaluation"
                            ) -> ComplianceWriteback:
    """After an evaluation: each household's next recertification date and compliance status (tenant UDFs) and
    each unit's AMI designation (unit UDF), enqueued where Rent Manager holds something else."""
    names = _config(org).compliance_udfs
    out = ComplianceWriteback(as_of=compliance_store.latest_as_of(engine, org.id))
    if names is None or out.as_of is None:
        return out
    households = compliance_store.read_snapshot(engine, "household_status", org.id, out.as_of)
    units = compliance_store.read_snapshot(engine, "unit_status", org.id, out.as_of)
    findings = compliance_store.read_findings(engine, org.id)
    leases = ec_table("leases")
    with engine.connect() as conn:
        tenant_of = {(loc, lease): tenant for loc, lease, tenant in conn.execute(
            select(leases.c.location_id, leases.c.rm_id, leases.c.resident_rm_id).where(leases.c.org_id == org.id))}
    wanted: dict[tuple[str, int, int], dict[str, str]] = defaultdict(dict)
    statuses = household_statuses(households, units, findings)
    for h in households:
        lease = _split(h["household_id"], "L")
        tenant = tenant_of.get(lease) if lease else None
        if tenant is None:
            continue
        out.households += 1
        values = wanted[("Tenants", lease[0], int(tenant))]  # type: ignore[index]
        if names.next_recertification and h.get("next_recert_due"):
            values[names.next_recertification] = h["next_recert_due"].isoformat()
        if names.compliance_status:
            values[names.compliance_status] = statuses[h["household_id"]]
            out.by_status[statuses[h["household_id"]]] = out.by_status.get(statuses[h["household_id"]], 0) + 1
    for u in units:
        unit = _split(u["unit_id"], "U")
        if unit is None or not names.ami_designation or u.get("designation_pct") is None:
            continue
        out.units += 1
        wanted[("Units", unit[0], unit[1])][names.ami_designation] = str(u["designation_pct"])
    lander = RawLander(engine, org_id=org.id, run_id=None)
    by_target: dict[tuple[str, int], list[int]] = defaultdict(list)
    for resource, loc, key in wanted:
        by_target[(resource, loc)].append(key)
    reason = f"compliance evaluation of {out.as_of.isoformat()}"
    for (resource, loc), keys in by_target.items():
        w = writable(resource)
        current = _current_udfs(lander, w, loc, keys)
        for key in keys:
            fields = wanted[(resource, loc, key)]
            base, version = _udf_base(current.get(key, {}), list(fields))
            changed = sum(1 for n, v in fields.items() if not same(v, base.get(n)))
            out.unchanged += len(fields) - changed
            if _store(engine, org, w, loc, key, "udf", fields, base, version, reason, requested_by) is not None:
                out.enqueued += 1
                out.values_changed += changed
    return out


# ------------------------------------------------------------------------------------------------ posting


@dataclass
class WritebackReport:
    org_id: str
    run_id: str
    rows: int = 0
    done: int = 0
    conflicts: int = 0
    failed: int = 0
    kept_theirs: int = 0
    batches: int = 0
    retried_after_409: int = 0
    lost_answers: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    landed: dict[str, int] = field(default_factory=dict)
    tables_loaded: list[str] = field(default_factory=list)

    @property
    def requests_per_record(self) -> float:
        return round(self.requests / self.rows, 3) if self.rows else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "done": self.done, "conflicts": self.conflicts, "failed": self.failed,
                "kept_rent_manager_value": self.kept_theirs, "batches": self.batches,
                "retried_after_409": self.retried_after_409, "lost_answers": self.lost_answers,
                "requests": self.requests, "requests_per_record": self.requests_per_record,
                "landed": dict(self.landed), "tables_loaded": list(self.tables_loaded), "errors": list(self.errors)}


class _Poster:
    """Posts the pending rows of one location through one client."""

    def __init__(self, engine: Engine, org: Org, cfg: WritebackConfig, client: RentManagerClient, location_id: int,
                 run_id: str, report: WritebackReport, logger: Any) -> None:
        self.engine, self.org, self.cfg, self.client = engine, org, cfg, client
        self.location_id, self.run_id, self.report, self.log = location_id, run_id, report, logger
        self.lander = RawLander(engine, org_id=org.id, run_id=run_id)

    # -- payloads and re-reads -------------------------------------------------------------------------------
    def _payload(self, row: outbox.OutboxRow) -> list[dict[str, Any]]:
        w = writable(row.resource)
        if row.kind == "record":
            return [{w.key: row.rm_key, **row.fields, **row.base_version}]
        items = []
        for name, value in row.fields.items():
            item: dict[str, Any] = {"ParentID": row.rm_key, "Name": name, "Value": value}
            known = row.base_version.get(name) or {}
            if known.get("UserDefinedValueID"):
                item.update(UserDefinedValueID=known["UserDefinedValueID"], UpdateDate=known.get("UpdateDate"))
            items.append(item)
        return items

    def _post(self, rows: list[outbox.OutboxRow]) -> None:
        resource, kind = rows[0].resource, rows[0].kind
        path = resource if kind == "record" else f"{resource}/UserDefinedValues"
        records = [item for row in rows for item in self._payload(row)]
        self.client.save(path, records, save_options=rows[0].save_options or None)

    def reread(self, resource: str, kind: str, keys: list[int]) -> dict[int, dict[str, Any]]:
        """The records (kind record) or their UDF values by name (kind udf) as Rent Manager holds them now,
        landed in rm_raw on the way."""
        w = writable(resource)
        entity = w.catalog_entity if kind == "record" else catalog_get(w.udf_entity or "")
        stream = plan_streams([entity.name])[0]
        out: dict[int, dict[str, Any]] = {}
        for page in self.client.iter_pages(entity.path, filters=[*entity.filters, (w.key, "in", keys)],
                                           fields=entity.fields or None, embeds=stream.embeds or None,
                                           page_size=self.org.rentmanager.page_size):
            rows = _rows(entity, page, ())
            result = self.lander.land(entity, self.location_id, rows, self.client.tz)
            self.report.landed[entity.name] = self.report.landed.get(entity.name, 0) + result.rows
            for record in page:
                if not isinstance(record, dict) or not isinstance(record.get(w.key), int):
                    continue
                out[record[w.key]] = record if kind == "record" else {
                    v.get("Name"): v for v in record.get("UserDefinedValues") or () if isinstance(v, dict)}
        return out

    def _theirs(self, row: outbox.OutboxRow, current: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], datetime | None]:
        """Field values, version and last change time of a re-read record (or its UDF values)."""
        if row.kind == "record":
            w = writable(row.resource)
            version = {f: current.get(f) for f in w.concurrency if f in current}
            return {f: current.get(f) for f in row.fields}, version, self.client.parse_datetime(current.get("UpdateDate"))
        values = {n: (current.get(n) or {}).get("Value") for n in row.fields}
        version = {n: {"UserDefinedValueID": v.get("UserDefinedValueID"), "UpdateDate": v.get("UpdateDate")}
                   for n, v in current.items() if n in row.fields and isinstance(v, dict)}
        stamps = [self.client.parse_datetime(v.get("UpdateDate")) for n, v in current.items()
                  if n in row.fields and isinstance(v, dict) and v.get("UpdateDate")]
        return values, version, max(stamps) if stamps else None

    # -- outcomes --------------------------------------------------------------------------------------------
    def _audit(self, row: outbox.OutboxRow, action: str, changed: dict[str, Any] | None) -> None:
        outbox.audit(self.engine, org_id=row.org_id, resource=row.resource, location_id=row.location_id,
                     rm_key=row.rm_key, action=action, changed=changed, run_id=self.run_id)

    def _finish(self, row: outbox.OutboxRow, status: str, error: str | None = None) -> None:
        if status == "done" and outbox.conflict_rows(self.engine, row.org_id, outbox_id=row.id):
            status = "conflict"  # a field still waits for a person
        outbox.set_fields(self.engine, row.id, status=status, last_error=error, run_id=self.run_id,
                          attempts=row.attempts)
        counter = {"done": "done", "conflict": "conflicts", "failed": "failed"}[status]
        setattr(self.report, counter, getattr(self.report, counter) + 1)
        if error:
            self.report.errors.append(f"outbox #{row.id} {row.resource} {row.rm_key}: {error}")
            self.log.warning(f"write-back #{row.id} {row.resource} {row.rm_key} {status}: {error}")

    def _confirm(self, rows: list[outbox.OutboxRow], note: str = "") -> None:
        """Re-read what was written, land it, and close each row whose values Rent Manager now holds."""
        current = self.reread(rows[0].resource, rows[0].kind, [r.rm_key for r in rows])
        for row in rows:
            record = current.get(row.rm_key)
            if record is None:
                self._finish(row, "failed", f"{row.resource} {row.rm_key} is no longer in Rent Manager")
                continue
            theirs, _version, _at = self._theirs(row, record)
            differs = [f for f, v in row.fields.items() if not same(theirs.get(f), v)]
            if differs:
                self._finish(row, "failed", f"Rent Manager accepted the write but holds other values for "
                                            f"{', '.join(differs)} (changed again meanwhile?)")
                continue
            self._audit(row, "write", {f: [row.base.get(f), v] for f, v in row.fields.items()} | (
                {"note": note} if note else {}))
            self._finish(row, "done")

    # -- the main path ---------------------------------------------------------------------------------------
    def post_batch(self, rows: list[outbox.OutboxRow]) -> None:
        self.report.batches += 1
        for row in rows:  # from now until an answer says otherwise, Rent Manager may hold it: never resend blindly
            outbox.set_fields(self.engine, row.id, status="sent", run_id=self.run_id)
        try:
            self._post(rows)
        except (ConflictError, PreconditionFailedError) as exc:
            if len(rows) > 1:  # find the record(s) concerned: each alone
                for row in rows:
                    self.post_batch([row])
                return
            if isinstance(exc, ConflictError):
                self._on_conflict(rows[0])
            else:
                self._on_precondition(rows[0], exc)
            return
        except LOST_ANSWER as exc:
            self.report.lost_answers += 1
            self.log.warning(f"write-back of {len(rows)} {rows[0].resource} record(s): {exc}; re-reading before "
                             "anything is sent again")
            self.after_lost_answer(rows)
            return
        except RentManagerError as exc:
            if len(rows) > 1:
                for row in rows:
                    self.post_batch([row])
                return
            rows[0].attempts += 1
            self._finish(rows[0], "failed", f"Rent Manager refused the write: {exc}")
            return
        for row in rows:
            row.attempts += 1
        self._confirm(rows)

    def _retry_with(self, row: outbox.OutboxRow, write: dict[str, Any], theirs: dict[str, Any],
                    version: dict[str, Any]) -> None:
        """Send `write` again over the fresh record, if attempts are left."""
        row.attempts += 1
        if row.attempts >= self.cfg.max_attempts:
            self._finish(row, "failed", f"{row.resource} {row.rm_key} kept changing in Rent Manager: gave up after "
                                        f"{row.attempts} attempt(s) (writeback.max_attempts)")
            return
        row.fields, row.base = dict(write), {f: theirs.get(f) for f in write}
        row.base_version = version
        outbox.set_fields(self.engine, row.id, fields=row.fields, base=row.base, base_version=row.base_version,
                          attempts=row.attempts, run_id=self.run_id)
        self.report.retried_after_409 += 1
        self.post_batch([row])

    def _decide(self, row: outbox.OutboxRow, record: dict[str, Any]) -> None:
        """Apply the org's per-field policy against the record as Rent Manager holds it now."""
        theirs, version, theirs_at = self._theirs(row, record)
        outcome = resolve(row.fields, row.base, theirs, ours_at=row.created_at, theirs_at=theirs_at,
                          policy=lambda f: self.cfg.policy(row.resource, policy_field(row.kind, f)))
        if outcome.kept_theirs:
            self.report.kept_theirs += len(outcome.kept_theirs)
            self._audit(row, "kept", {f: {"ours": row.fields[f], "theirs": theirs.get(f), "policy": p}
                                      for f, p in outcome.kept_theirs.items()})
        if outcome.conflicts:
            outbox.add_conflicts(self.engine, row, outcome.conflicts, theirs_at)
            self._audit(row, "conflict", {c.field: {"base": c.base, "ours": c.ours, "theirs": c.theirs}
                                          for c in outcome.conflicts})
        if outcome.write:
            if outcome.overrode:
                self._audit(row, "override", {f: {"ours": row.fields[f], "theirs": theirs.get(f), "policy": p}
                                              for f, p in outcome.overrode.items()})
            self._retry_with(row, outcome.write, theirs, version)
            return
        row.attempts += 1
        self._finish(row, "conflict" if outcome.conflicts else "done")

    def _on_conflict(self, row: outbox.OutboxRow) -> None:
        current = self.reread(row.resource, row.kind, [row.rm_key]).get(row.rm_key)
        if current is None:
            row.attempts += 1
            self._finish(row, "failed", f"{row.resource} {row.rm_key} is no longer in Rent Manager")
            return
        self._decide(row, current)

    def _on_precondition(self, row: outbox.OutboxRow, exc: RentManagerError) -> None:
        text = " ".join(str(x) for x in (exc.user_message, exc.developer_message, exc.body, exc) if x)
        found = _OPTION.search(text)
        option = (found.group(1) or found.group(2)) if found else None
        row.attempts += 1
        asked = f"save option {option}" if option else "a save option"
        retry = f"rm-pipelines writeback retry {row.id} --save-option {option or '<option>'}"
        said = str(exc.user_message or exc).strip().rstrip(".")
        self._finish(row, "failed", f"Rent Manager asks for {asked} (412); if that override is intended: {retry} — "
                                    f"{said}")

    def after_lost_answer(self, rows: list[outbox.OutboxRow]) -> None:
        """The answer to a write was lost: look before sending anything again."""
        current = self.reread(rows[0].resource, rows[0].kind, [r.rm_key for r in rows])
        for row in rows:
            record = current.get(row.rm_key)
            if record is None:
                row.attempts += 1
                self._finish(row, "failed", f"{row.resource} {row.rm_key} is no longer in Rent Manager")
                continue
            theirs, version, _at = self._theirs(row, record)
            if all(same(theirs.get(f), v) for f, v in row.fields.items()):
                row.attempts += 1
                self._audit(row, "write", {f: [row.base.get(f), v] for f, v in row.fields.items()}
                            | {"note": "applied; its answer was lost"})
                self._finish(row, "done")
            elif version == row.base_version:  # nothing changed: the write did not happen, send it again
                self._retry_with(row, row.fields, theirs, version)
            else:
                self._decide(row, record)


def post_pending(engine: Engine, org: Org, client_factory: ClientFactory, *, run_id: str, logger: Any = log,
                 lock_wait_seconds: float = 0.0, load: bool = True) -> WritebackReport:
    """Post the org's pending outbox rows (see the module docstring); then load the EstateCore tables fed by the
    records re-read. Returns what happened."""
    cfg = _config(org)
    report = WritebackReport(org.id, run_id)
    with org_lock(engine, org.id, holder=f"write-back run {run_id}", wait_seconds=lock_wait_seconds):
        for location in org.locations:
            rows = outbox.rows(engine, org.id, status=["pending", "sent"], location_id=location.id)
            if not rows:
                continue
            report.rows += len(rows)
            try:
                client = client_factory(org, location.id, location.timezone)
            except (ValueError, RentManagerError) as exc:
                report.errors.append(f"org {org.id!r} location {location.id}: cannot open a Rent Manager session: {exc}")
                continue
            with client:
                poster = _Poster(engine, org, cfg, client, location.id, run_id, report, logger)
                try:
                    client.authenticate()
                    groups: dict[tuple, list[outbox.OutboxRow]] = defaultdict(list)
                    for row in rows:  # a row left `sent` by a run that stopped is looked at, never re-sent blindly
                        groups[(row.status, row.resource, row.kind, tuple(row.save_options))].append(row)
                    for (status, *_), group in groups.items():
                        for i in range(0, len(group), cfg.batch_size):
                            batch = group[i:i + cfg.batch_size]
                            if status == "sent":
                                poster.after_lost_answer(batch)
                            else:
                                poster.post_batch(batch)
                except (RentManagerError, OSError) as exc:
                    report.errors.append(f"org {org.id!r} location {location.id}: write-back stopped: {exc} "
                                         "(rows not yet posted stay pending)")
                finally:
                    report.requests += client.stats.requests
    if load and report.landed:
        for name in tables_for(set(report.landed)):
            load_table(engine, org=org, table=name, run_id=run_id, mode="incremental", log=logger,
                       lock_wait_seconds=lock_wait_seconds)
            report.tables_loaded.append(name)
    logger.info(f"org {org.id!r} write-back: {report.rows} row(s), {report.done} done, {report.conflicts} conflict(s), "
                f"{report.failed} failed, {report.requests} request(s) ({report.requests_per_record}/record)")
    return report


# ------------------------------------------------------------------------------------------ people's decisions


def outbox_counts(engine: Engine, org_id: str) -> dict[str, int]:
    """The org's outbox rows by status."""
    return outbox.counts(engine, org_id)


def orgs_with_pending(engine: Engine) -> list[str]:
    """Orgs with outbox rows to post."""
    return outbox.orgs_with_pending(engine)


def retry(engine: Engine, org: Org, row_id: int, *, save_options: list[str] | None = None) -> outbox.OutboxRow:
    """Put a failed row back to pending (optionally with the save option Rent Manager asked for)."""
    row = outbox.get(engine, row_id)
    if row is None or row.org_id != org.id:
        raise WritebackError(f"outbox row {row_id} is not one of org {org.id!r}'s")
    if row.status not in ("failed", "pending"):
        raise WritebackError(f"outbox row {row_id} is {row.status}, not failed: nothing to retry"
                             + (" (resolve its conflicts with `rm-pipelines conflicts resolve`)"
                                if row.status == "conflict" else ""))
    options = sorted(set(row.save_options) | set(save_options or ()))
    outbox.set_fields(engine, row_id, status="pending", last_error=None, attempts=0, save_options=options)
    return outbox.get(engine, row_id)  # type: ignore[return-value]


def resolve_conflict(engine: Engine, org: Org, conflict_id: int, *, take: str, by: str) -> dict[str, Any]:
    """A person decides a conflict: `theirs` keeps Rent Manager's value; `ours` writes EstateCore's over it (the
    row goes back to pending with Rent Manager's value as its new base)."""
    if take not in ("ours", "theirs"):
        raise WritebackError("--take must be ours or theirs")
    found = outbox.get_conflict(engine, conflict_id)
    if found is None or found["org_id"] != org.id:
        raise WritebackError(f"conflict {conflict_id} is not one of org {org.id!r}'s")
    if found["status"] != "open":
        raise WritebackError(f"conflict {conflict_id} was already resolved ({found['status']} by "
                             f"{found['resolved_by']})")
    outbox.close_conflict(engine, conflict_id, take=take, by=by)
    row = outbox.get(engine, found["outbox_id"])
    assert row is not None
    outbox.audit(engine, org_id=org.id, resource=row.resource, location_id=row.location_id, rm_key=row.rm_key,
                 action="resolved", changed={found["field"]: {"take": take, "ours": found["ours"],
                                                              "theirs": found["theirs"], "by": by}}, run_id=None)
    still_open = outbox.conflict_rows(engine, org.id, outbox_id=row.id)
    if take == "ours":
        fields = {found["field"]: found["ours"]} | ({} if row.status == "conflict" else row.fields)
        base = {found["field"]: found["theirs"]}
        version = _fresh_version(engine, org, row)
        outbox.set_fields(engine, row.id, status="pending" if not still_open else "conflict", fields=fields,
                          base=base, base_version=version, attempts=0, last_error=None)
    elif not still_open and row.status == "conflict":
        outbox.set_fields(engine, row.id, status="done", last_error=None)
    return {**found, "status": take, "outbox_status": outbox.get(engine, row.id).status}  # type: ignore[union-attr]


def _fresh_version(engine: Engine, org: Org, row: outbox.OutboxRow) -> dict[str, Any]:
    """The version of the record as last landed (the conflict's re-read landed it)."""
    w = writable(row.resource)
    lander = RawLander(engine, org_id=org.id, run_id=None)
    if row.kind == "record":
        record = _current_record(lander, w, row.location_id, row.rm_key)
        return {f: record.get(f) for f in w.concurrency if f in record}
    values = _current_udfs(lander, w, row.location_id, [row.rm_key]).get(row.rm_key, {})
    return _udf_base(values, list(values))[1]
