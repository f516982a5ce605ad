"""`rm-pipelines`: the command line of rm_pipelines."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return 0 if run_demo(org_id=args.org, mode="full" if args.full else "incremental") else 1


def _cmd_orgs_list(args: argparse.Namespace) -> int:
    from .orgs import load_registry

    registry = load_registry(args.file)
    for org in registry.organizations:
        rm = org.rentmanager
        locations = ", ".join(f"{loc.id} ({loc.timezone})" for loc in org.locations)
        print(f"{org.id:<20} {org.name:<32} {rm.url:<40} auth={rm.auth.mode:<8} locations: {locations}")
    return 0


def _cmd_orgs_validate(args: argparse.Namespace) -> int:
    from .orgs import load_registry

    registry = load_registry(args.file)
    print(f"{args.file or 'registry'}: {len(registry.organizations)} organisation(s) OK: {', '.join(registry.ids)}")
    return 0


def _cmd_compliance_status(args: argparse.Namespace) -> int:
    from .settings import get_settings
    from .summary import print_compliance
    from .warehouse.db import create_warehouse_engine
    from .warehouse.raw import ensure_schema

    engine = create_warehouse_engine(args.url or get_settings().database_url)
    try:
        ensure_schema(engine)
        found = print_compliance(sys.stdout, engine, args.org, include_corrected=not args.open_only)
    finally:
        engine.dispose()
    return 0 if found else 1


def _warehouse(url: str | None):
    from .settings import get_settings
    from .warehouse.db import create_warehouse_engine
    from .warehouse.raw import ensure_schema

    engine = create_warehouse_engine(url or get_settings().database_url)
    ensure_schema(engine)
    return engine


def _cmd_reports_render(args: argparse.Namespace) -> int:
    import uuid

    from .flows.render import RenderError, render
    from .orgs import load_registry
    from .reports.catalog import KINDS

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
            print(f"{kind} {result.period}: {len(result.files)} file(s), {result.pages} page(s), {result.blanks} blank(s) "
                  f"to fill — evaluation #{result.evaluation.id} of {result.evaluation.as_of}")
            for f in result.files:
                print(f"  {f.path}  ({f.pages or '-'} p, {f.bytes:,} bytes, sha256 {f.sha256[:16]}…)")
    finally:
        engine.dispose()
    return 1 if failed else 0


def _cmd_reports_list(args: argparse.Namespace) -> int:
    from .warehouse.report_index import list_reports

    engine = _warehouse(args.url)
    try:
        rows = list_reports(engine, args.org, kind=args.kind, period=args.period)
    finally:
        engine.dispose()
    if not rows:
        print(f"no reports indexed for org {args.org!r}" + (f" kind {args.kind}" if args.kind else "")
              + (f" period {args.period}" if args.period else "") + " — render some with `rm-pipelines reports render`")
        return 1
    print(f"{'period':<8} {'kind':<12} {'scope':<28} {'pages':>5} {'blanks':>6}  {'evaluation':<18} path")
    for r in rows:
        print(f"{r['period']:<8} {r['kind']:<12} {r['scope']:<28} {r['pages'] or '-':>5} {r['blanks']:>6}  "
              f"#{r['evaluation_id']} {r['evaluation_as_of']}  {r['path']}")
    return 0


def _cmd_reports_verify(args: argparse.Namespace) -> int:
    from .reports.verify import verify

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rm-pipelines",
        description="Rent Manager → EstateCore pipelines: extraction, sandbox, organisations, reference data.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the main job on the embedded sandbox and SQLite warehouse",
                          description="Start the embedded Rent Manager sandbox, register the demo org, extract every "
                                      "entity into the SQLite warehouse and print a per-entity summary. Running it again "
                                      "performs an incremental sync.")
    demo.add_argument("--org", default="demo", help="org id from the registry (default: demo)")
    demo.add_argument("--full", action="store_true", help="full sync instead of incremental")
    demo.set_defaults(func=_cmd_demo)

    orgs = sub.add_parser("orgs", help="inspect the organisation registry").add_subparsers(dest="orgs_command", required=True)
    for name, func, text in (("list", _cmd_orgs_list, "list the organisations"),
                             ("validate", _cmd_orgs_validate, "validate the registry and exit non-zero if it is invalid")):
        p = orgs.add_parser(name, help=text, description=text)
        p.add_argument("--file", help="registry file (default: RM_PIPELINES_ORGS or the bundled demo registry)")
        p.set_defaults(func=func)

    compliance = sub.add_parser("compliance", help="show an org's stored compliance status and findings").add_subparsers(
        dest="compliance_command", required=True)
    status = compliance.add_parser(
        "status", help="the latest evaluation: status per program and the findings with Form 8823 categories",
        description="Print the org's latest stored compliance evaluation (written by the sync job's compliance "
                    "assets): the answer, the status per program and the findings ledger. Exit code 1 when the "
                    "org has not been evaluated yet.")
    status.add_argument("--org", default="demo", help="org id (default: demo)")
    status.add_argument("--open-only", action="store_true", help="leave corrected findings out")
    status.add_argument("--url", help="warehouse URL (default: ESTATECORE_DATABASE_URL or the SQLite file in the data dir)")
    status.set_defaults(func=_cmd_compliance_status)

    _reports_parser(sub)

    from .compliance import cli as compliance_cli
    from .sandbox import cli as sandbox_cli
    from .warehouse import cli as warehouse_cli

    for module in (sandbox_cli, warehouse_cli, compliance_cli):
        module.register(sub)
    return parser


def _reports_parser(sub) -> None:  # noqa: ANN001
    from .reports.catalog import KINDS

    kinds = ", ".join(f"{k.kind} ({k.cadence}, per {k.per})" for k in KINDS)
    reports = sub.add_parser("reports", help="render, list and verify the compliance reports (PDF, XML)",
                             description="Agency-form reports rendered from the stored compliance evaluations. "
                                         f"Kinds: {kinds}.").add_subparsers(dest="reports_command", required=True)
    render = reports.add_parser(
        "render", help="render the reports of an org for a period",
        description="Render every document of a report kind for an org and period from the latest stored "
                    "compliance evaluation dated in that period; files go under the reports directory "
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        noisy = ("httpx", "httpcore", "alembic", "great_expectations", "weasyprint", "fontTools")
        for name in noisy:
            logging.getLogger(name).setLevel(logging.WARNING)
        # GX resets its own loggers' levels when it builds a context; filter at the handler instead.
        for handler in logging.getLogger().handlers:
            handler.addFilter(lambda r: r.levelno >= logging.WARNING or not r.name.startswith(noisy))
    from .orgs import RegistryError
    from .settings import SettingsError

    try:
        return int(args.func(args) or 0)
    except (RegistryError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
