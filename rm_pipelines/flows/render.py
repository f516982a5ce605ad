"""Compliance → reports: read the stored rows of the period's evaluation, build each document of a report
kind, render it (PDF/A-3b with its evidence, or XML + CSV), write it under the reports directory and index
it in `ops.report_index`. The specialised products' kinds read their product's stored evaluation instead
(`specialties` schema); an org with no such evaluation for the period gets no document, not an error.

Files: ``<reports dir>/<org>/<period>/<kind>/<kind>-<scope>.<ext>``, so a period never overwrites another;
re-rendering a period replaces that period's files with byte-identical ones when the rows are unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from .. import clock
from ..reports import catalog
from ..reports.document import Report
from ..reports.period import Period, PeriodError
from ..reports.render import render_pdf
from ..reports.sources import Evaluation, Sources
from ..reports.specialty_sources import PROPERTY_COLUMNS, SpecialtySources
from ..warehouse import compliance_store as store
from ..warehouse import specialties_store
from ..warehouse import evaluations as evals
from ..warehouse import report_index
from ..warehouse.read import read_frame

log = logging.getLogger(__name__)

ESTATECORE_TABLES = ("properties", "units", "residents", "household_members", "leases", "owners", "ownerships")
MEMBER_COLUMNS = ("location_id", "rm_id", "resident_rm_id", "first_name", "last_name", "middle_name", "is_primary",
                  "is_active", "applicant_type", "relationship", "student_status", "ssn_last4", "date_of_birth")


class RenderError(ValueError):
    """A report cannot be rendered (no evaluation in the period, unknown kind or property); says why."""


@dataclass(frozen=True)
class RenderedFile:
    kind: str
    scope: str
    property_id: str | None
    bin: str | None
    path: Path
    media_type: str
    pages: int | None
    bytes: int
    sha256: str
    evidence_sha256: str | None
    blanks: list[dict[str, Any]]
    households: int
    seconds: float


@dataclass
class RenderResult:
    org_id: str
    kind: str
    period: str
    evaluation: Evaluation | None
    """None: a specialised product's kind with no stored evaluation for the period (no documents)."""
    files: list[RenderedFile] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return sum(f.pages or 0 for f in self.files)

    @property
    def blanks(self) -> int:
        return sum(len(f.blanks) for f in self.files)


def _records(df) -> list[dict[str, Any]]:
    return df.astype(object).where(df.notna(), None).to_dict("records")


def _age(born: date | None, on: date) -> int | None:
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def resolve_evaluation(engine: Engine, org_id: str, period: Period) -> Evaluation:
    row = evals.latest_in(engine, org_id, period.start, period.end)
    if row is None:
        raise RenderError(f"org {org_id!r}: no stored compliance evaluation dated in {period.label} "
                          f"({period.start} to {period.end}); evaluate compliance for that period first")
    return Evaluation(id=row["id"], org_id=org_id, as_of=row["as_of"], run_id=row["run_id"],
                      evaluated_at=row["evaluated_at"],
                      last_sync=evals.last_successful_sync(engine, org_id, row["evaluated_at"]))


def read_sources(engine: Engine, org_id: str, org_name: str, evaluation: Evaluation) -> Sources:
    """Every stored row a report may print, for one evaluation. Members carry their age on the evaluation
    date instead of a birth date."""
    as_of = evaluation.as_of
    snapshots = {name: store.read_snapshot(engine, name, org_id, as_of, decrypt=True) for name in store.SNAPSHOTS}
    ec: dict[str, list[dict[str, Any]]] = {}
    for name in ESTATECORE_TABLES:
        if name == "household_members":
            members = _records(read_frame(engine, name, org_id, columns=list(MEMBER_COLUMNS), decrypt=True))
            for m in members:
                m["age"] = _age(m.pop("date_of_birth"), as_of)
            ec[name] = members
        else:
            ec[name] = _records(read_frame(engine, name, org_id))
    return Sources(org_id=org_id, org_name=org_name, evaluation=evaluation, snapshots=snapshots,
                   findings=store.read_findings(engine, org_id), evaluations=evals.history(engine, org_id, as_of),
                   estatecore=ec)


def resolve_specialty_evaluation(engine: Engine, org_id: str, spec: catalog.ReportKind,
                                 period: Period) -> Evaluation | None:
    """The product's stored evaluation a specialised report of the period is built from, or None."""
    product = spec.product
    if spec.in_period:
        table, column = spec.in_period
        year_column = column == "year"
        low, high = (period.start.year, period.end.year) if year_column else (period.start, period.end)
        as_of = specialties_store.latest_as_of_where(engine, table, org_id, column, low, high)
        run = specialties_store.run_on(engine, org_id, product, as_of) if as_of else None
    else:
        run = specialties_store.latest_run(engine, org_id, product, period.start, period.end)
    if run is None:
        return None
    return Evaluation(id=run["id"], org_id=org_id, as_of=run["as_of"], run_id=run["run_id"],
                      evaluated_at=run["evaluated_at"],
                      last_sync=evals.last_successful_sync(engine, org_id, run["evaluated_at"]), source=product)


def read_specialty_sources(engine: Engine, org_id: str, org_name: str, spec: catalog.ReportKind,
                           evaluation: Evaluation) -> SpecialtySources:
    """The stored rows of the product's evaluation the kind reads, the org's properties and the UDF values it
    prints (non-sensitive ones only: those the catalog names)."""
    from sqlalchemy import select

    from ..warehouse.models import table as sa_table

    tables = {t: specialties_store.read_rows(engine, t, org_id, evaluation.as_of) for t in spec.tables}
    properties = _records(read_frame(engine, "properties", org_id, columns=["location_id", "rm_id", *PROPERTY_COLUMNS]))
    udfs: list[dict[str, Any]] = []
    if spec.udfs:
        t = sa_table("udf_values")
        stmt = select(t.c.location_id, t.c.parent_type, t.c.parent_rm_id, t.c.name, t.c.value).where(
            t.c.org_id == org_id, t.c.deleted_at.is_(None), t.c.name.in_(sorted(spec.udfs)),
            t.c.is_encrypted.isnot(True))
        with engine.connect() as conn:
            udfs = [dict(r) for r in conn.execute(stmt).mappings()]
    ec = {name: _records(read_frame(engine, name, org_id, columns=["location_id", "rm_id", *columns]))
          for name, columns in spec.estatecore}
    return SpecialtySources(org_id=org_id, org_name=org_name, evaluation=evaluation, product=spec.product,
                            tables=tables, properties=properties, udfs=udfs, estatecore=ec)


def _specialty_property(sources: SpecialtySources, wanted: str | None) -> str | None:
    if not wanted:
        return None
    for p in sources.properties:
        if wanted in (p.get("short_name"), p.get("name"), str(p.get("rm_id"))):
            return f"{p['location_id']}:{p['rm_id']}"
    raise RenderError(f"org {sources.org_id!r}: no property {wanted!r} (use its ShortName)")


def _property_filter(sources: Sources, wanted: str | None) -> str | None:
    if not wanted:
        return None
    for pid in sources.property_ids():
        p = sources.property(pid) or {}
        if wanted in (pid, p.get("short_name"), p.get("name"), str(p.get("rm_id"))):
            return pid
    raise RenderError(f"org {sources.org_id!r}: no evaluated property {wanted!r} (use its ShortName)")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)  # a reader never sees half a report


def render_documents(reports: list[Report], out_dir: Path, *, on_file: Callable[[RenderedFile], None] | None = None
                     ) -> list[RenderedFile]:
    """Render built reports to PDF files under ``out_dir`` (pure of the database)."""
    files = []
    for rep in reports:
        t0 = time.perf_counter()
        rendered = render_pdf(rep)
        path = out_dir / f"{rep.file_stem}.pdf"
        _write(path, rendered.pdf)
        households = len({r["values"].get("household_id") for r in rendered.evidence["rows"]
                          if r["values"].get("household_id")})
        f = RenderedFile(rep.kind, rep.scope_key, rep.header.property_id, rep.header.bin, path, "application/pdf",
                         rendered.pages, len(rendered.pdf), hashlib.sha256(rendered.pdf).hexdigest(),
                         rendered.evidence["rows_sha256"], rendered.evidence["blanks"], households,
                         time.perf_counter() - t0)
        files.append(f)
        if on_file:
            on_file(f)
    return files


def write_exports(spec: catalog.ReportKind, exports: list, out_dir: Path, *,
                  on_file: Callable[[RenderedFile], None] | None = None) -> list[RenderedFile]:
    """Serialize data exports (validated before anything is written) and write their files."""
    serialized = [(doc, spec.serialize(doc)) for doc in exports]
    files = []
    for doc, outputs in serialized:
        for ext, (media_type, data) in outputs.items():
            t0 = time.perf_counter()
            path = out_dir / f"{spec.kind}-{doc.scope_key}.{ext}"
            _write(path, data)
            f = RenderedFile(spec.kind, doc.scope_key, None, None, path, media_type, None, len(data),
                             hashlib.sha256(data).hexdigest(), None, doc.blanks, len(doc.households),
                             time.perf_counter() - t0)
            files.append(f)
            if on_file:
                on_file(f)
    return files


def render(engine: Engine, org_id: str, org_name: str, kind: str, period_text: str, *, run_id: str,
           property: str | None = None, bins: list[str] | None = None, certification: str | None = None, out_dir: Path | str | None = None, reports_dir: Path | None = None,
           sources: Sources | None = None, on_file: Callable[[RenderedFile], None] | None = None) -> RenderResult:
    """Render every document of ``kind`` for an org and period, write the files and index them."""
    try:
        spec = catalog.get(kind)
        period = Period.parse(period_text)
    except (KeyError, PeriodError) as exc:
        raise RenderError(str(exc.args[0])) from None
    if period.cadence != spec.cadence:
        raise RenderError(f"{kind} is a {spec.cadence} report: give the period as "
                          f"{'YYYY-MM' if spec.cadence == 'monthly' else 'YYYY'}, not {period_text!r}")
    if spec.product:
        evaluation = resolve_specialty_evaluation(engine, org_id, spec, period)
        if evaluation is None:
            log.info("%s %s %s: no stored %s evaluation for the period: no documents", org_id, kind, period.key,
                     spec.product)
            return RenderResult(org_id, kind, period.key, None)
        sources = read_specialty_sources(engine, org_id, org_name, spec, evaluation)
        pid = _specialty_property(sources, property)
    else:
        if sources is None:
            evaluation = resolve_evaluation(engine, org_id, period)
            sources = read_sources(engine, org_id, org_name, evaluation)
        pid = _property_filter(sources, property)
    if out_dir is None:
        from ..settings import get_settings

        base = reports_dir or get_settings().report_dir
        out_dir = base / org_id / period.key / kind
    out_dir = Path(out_dir)
    result = RenderResult(org_id, kind, period.key, sources.evaluation)
    if certification:
        if kind != "tic":
            raise RenderError("--certification selects one Tenant Income Certification: use it with --kind tic")
        from ..reports import tic

        try:
            built = [tic.build_one(sources, period, certification)]
        except KeyError as exc:
            raise RenderError(str(exc.args[0])) from None
    else:
        built = spec.build(sources, period, pid)
    if bins:
        built = [rep for rep in built if rep.header.bin in set(bins)]
    log.info("%s %s %s: %d document(s) from evaluation #%s (%s)", org_id, kind, period.key, len(built),
             sources.evaluation.id, sources.evaluation.as_of)
    if spec.media == "pdf":
        result.files = render_documents(built, out_dir, on_file=on_file)
    else:
        result.files = write_exports(spec, built, out_dir, on_file=on_file)
    now = clock.utcnow()
    report_index.record(engine, [{
        "org_id": org_id, "kind": kind, "period": period.key, "scope": f.scope, "property_id": f.property_id,
        "bin": f.bin, "path": str(f.path), "media_type": f.media_type, "pages": f.pages, "bytes": f.bytes,
        "sha256": f.sha256, "evidence_sha256": f.evidence_sha256, "blanks": len(f.blanks),
        "evaluation_id": sources.evaluation.id, "evaluation_as_of": sources.evaluation.as_of,
        "evaluation_run_id": sources.evaluation.run_id, "run_id": run_id, "generated_at": now,
    } for f in result.files])
    return result
