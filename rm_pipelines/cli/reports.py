"""`rm-pipelines reports render|list|verify`: the compliance reports and the specialised products' statements
and reports, rendered from the stored evaluations."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _warehouse(url: str | None, *, read_only: bool = False):
    """The warehouse: migrated before rendering (it writes ops.report_index); as it is for reading."""
    from ..settings import get_settings
    from ..warehouse.db import create_warehouse_engine
    from ..warehouse.migrate import open_existing
    from ..warehouse.raw import ensure_schema

    url = url or get_settings().database_url
    if read_only:
        return open_existing(url)
    engine = create_warehouse_engine(url)
    ensure_schema(engine)
    return engine


CLI_OF = {"student_housing": "student", "commercial": "commercial", "hoa": "hoa", "asset_management": "assets"}


def catalog_product(kind: str) -> str | None:
    from ..reports.catalog import get

    return get(kind).product


def _cmd_reports_render(args: argparse.Namespace) -> int:
    import uuid

    from ..flows.render import RenderError, render
    from ..orgs import load_registry
    from ..reports.catalog import KINDS

    org = load_registry().get(args.org)
    kinds = [k.kind for k in KINDS] if args.kind == "all" else [args.kind]
    engine = _warehouse(args.url)
    run_id = f"cli-{uuid.uuid4().hex[:12]}"
    failed = False
    try:
        for kind in kinds:
            cadence = next(k.cadence for k in KINDS if k.kind == kind)
            period = args.period if args.kind != "all" else (args.period[:4] if cadence == "annual" else args.period)
            if args.kind == "all" and cadence == "monthly" and len(period) == 4:
                continue  # a year asks for the annual reports only
            try:
                result = render(engine, org.id, org.name, kind, period, run_id=run_id, property=args.property,
                                certification=args.certification, out_dir=(Path(args.out) / kind) if args.out else None)
            except RenderError as exc:
                print(f"error: {kind}: {exc}", file=sys.stderr)
                failed = True
                continue
            e = result.evaluation
            if e is None:
                print(f"{kind} {result.period}: no documents — no stored {catalog_product(kind)} evaluation for the "
                      f"period (run `rm-pipelines {CLI_OF.get(catalog_product(kind), '')}` first)")
                continue
            source = "" if e.source == "compliance" else f"{e.source} "
            print(f"{kind} {result.period}: {len(result.files)} file(s), {result.pages} page(s), {result.blanks} blank(s) "
                  f"to fill — {source}evaluation #{e.id} of {e.as_of}")
            for f in result.files:
                print(f"  {f.path}  ({f.pages or '-'} p, {f.bytes:,} bytes, sha256 {f.sha256[:16]}…)")
    finally:
        engine.dispose()
    return 1 if failed else 0


def _cmd_reports_list(args: argparse.Namespace) -> int:
    from ..warehouse.report_index import list_reports

    engine = _warehouse(args.url, read_only=True)
    try:
        rows = list_reports(engine, args.org, kind=args.kind, period=args.period)
    finally:
        engine.dispose()
    if not rows:
        print(f"no reports indexed for org {args.org!r}" + (f" kind {args.kind}" if args.kind else "")
              + (f" period {args.period}" if args.period else "") + " — render some with `rm-pipelines reports render`")
        return 1
    print(f"{'period':<8} {'kind':<20} {'scope':<28} {'pages':>5} {'blanks':>6}  {'evaluation':<18} path")
    for r in rows:
        print(f"{r['period']:<8} {r['kind']:<20} {r['scope']:<28} {r['pages'] or '-':>5} {r['blanks']:>6}  "
              f"#{r['evaluation_id']} {r['evaluation_as_of']}  {r['path']}")
    return 0


def _cmd_reports_verify(args: argparse.Namespace) -> int:
    from ..reports.verify import verify

    bad = 0
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            print(f"FAILED: {name}: no such file")
            bad += 1
            continue
        result = verify(path.read_bytes())
        print(f"{name}: {result.summary()}")
        bad += not result.ok
    return 1 if bad else 0


def register(sub) -> None:  # noqa: ANN001
    from ..reports.catalog import KINDS

    kinds = ", ".join(f"{k.kind} ({k.cadence}, per {k.per})" for k in KINDS)
    reports = sub.add_parser("reports", help="render, list and verify the reports (PDF, XML)",
                             description="Agency-form compliance reports rendered from the stored compliance "
                                         "evaluations, and the specialised products' statements and reports (CAM and "
                                         "percentage rent statements, HOA delinquency and violation notices, student "
                                         "pre-lease, asset-management performance) from their stored evaluations. "
                                         f"Kinds: {kinds}.").add_subparsers(dest="reports_command", required=True)
    render = reports.add_parser(
        "render", help="render the reports of an org for a period",
        description="Render every document of a report kind for an org and period from the latest stored "
                    "evaluation for that period (compliance, or the kind's specialised product: an org without one "
                    "gets no document); files go under the reports directory "
                    "(RM_PIPELINES_REPORTS_DIR, default <data dir>/reports/<org>/<period>/<kind>/) and into "
                    "ops.report_index.")
    render.add_argument("--org", default="demo", help="org id from the registry (default: demo)")
    render.add_argument("--kind", default="all", choices=["all"] + [k.kind for k in KINDS],
                        help="report kind, or all (default): every monthly kind for YYYY-MM, every annual kind for YYYY")
    render.add_argument("--period", required=True,
                        help="YYYY-MM for monthly reports, YYYY for annual ones (with --kind all, YYYY-MM renders the "
                             "month's reports and the year's annual ones)")
    render.add_argument("--property", help="only this property (Rent Manager ShortName)")
    render.add_argument("--certification", metavar="ID",
                        help="with --kind tic: only this certification (its id in compliance.household_certifications)")
    render.add_argument("--out", help="write into this directory instead of the reports directory (one folder per kind)")
    render.add_argument("--url", help="warehouse URL (default: ESTATECORE_DATABASE_URL or the SQLite file in the data dir)")
    render.set_defaults(func=_cmd_reports_render)
    listing = reports.add_parser("list", help="the reports rendered for an org (from ops.report_index)",
                                 description="List the indexed report files of an org, newest period first.")
    listing.add_argument("--org", default="demo", help="org id (default: demo)")
    listing.add_argument("--kind", help="only this kind")
    listing.add_argument("--period", help="only this period (YYYY-MM or YYYY)")
    listing.add_argument("--url", help="warehouse URL (default: ESTATECORE_DATABASE_URL or the SQLite file in the data dir)")
    listing.set_defaults(func=_cmd_reports_list)
    verify = reports.add_parser(
        "verify", help="check a report PDF against the stored rows embedded in it",
        description="Check that a report PDF is PDF/A-3, carries its evidence (the stored rows it was rendered "
                    "from), that the rows are unchanged (sha256) and that every figure on the pages equals its "
                    "row. Exit code 1 when any file fails.")
    verify.add_argument("files", nargs="+", metavar="FILE", help="report PDF file(s)")
    verify.set_defaults(func=_cmd_reports_verify)
