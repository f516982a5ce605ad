"""`rm-pipelines`: the command line of rm_pipelines."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence


def _cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    return 0 if run_demo(org_id=args.org, mode="full" if args.full else "incremental") else 1


def _cmd_orgs_list(args: argparse.Namespace) -> int:
    from ..orgs import load_registry

    registry = load_registry(args.file)
    for org in registry.organizations:
        rm = org.rentmanager
        locations = ", ".join(f"{loc.id} ({loc.timezone})" for loc in org.locations)
        print(f"{org.id:<20} {org.name:<32} {rm.url:<40} auth={rm.auth.mode:<8} locations: {locations}")
    return 0


def _cmd_orgs_validate(args: argparse.Namespace) -> int:
    from ..orgs import RegistryError, load_registry

    registry = load_registry(args.file)
    if args.org:
        registry.get(args.org)  # an unknown org is an error naming the known ones
    errors = 0
    for org in registry.organizations:
        if org.webhooks is not None:
            try:
                org.webhooks.token()
            except RegistryError as exc:
                print(f"warning: org {org.id!r}: {exc}; its webhooks are not received", file=sys.stderr)
        missing = org.missing_env()
        if not missing:
            continue
        names = ", ".join(missing)
        if org.rentmanager.is_embedded_sandbox:
            print(f"note: org {org.id!r}: {names} not set; the embedded sandbox's demo user is used")
        elif org.id == args.org:
            print(f"error: org {org.id!r}: environment variable(s) {names} (rentmanager.auth) are not set", file=sys.stderr)
            errors += 1
        else:
            print(f"warning: org {org.id!r}: environment variable(s) {names} (rentmanager.auth) are not set; "
                  "its syncs will fail until they are", file=sys.stderr)
    if errors:
        return 1
    print(f"{args.file or 'registry'}: {len(registry.organizations)} organisation(s) OK: {', '.join(registry.ids)}")
    return 0


def _cmd_compliance_status(args: argparse.Namespace) -> int:
    from ..settings import get_settings
    from ..summary import print_compliance
    from ..warehouse.migrate import open_existing

    engine = open_existing(args.url or get_settings().database_url)  # read-only: creates nothing
    try:
        found = print_compliance(sys.stdout, engine, args.org, include_corrected=not args.open_only)
    finally:
        engine.dispose()
    return 0 if found else 1


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

    orgs = sub.add_parser("orgs", help="the organisation registry: list, validate, add, test, remove").add_subparsers(
        dest="orgs_command", required=True)
    for name, func, text in (("list", _cmd_orgs_list, "list the organisations"),
                             ("validate", _cmd_orgs_validate, "validate the registry and exit non-zero if it is invalid")):
        p = orgs.add_parser(name, help=text, description=text)
        p.add_argument("--file", help="registry file (default: RM_PIPELINES_ORGS or the bundled demo registry)")
        if name == "validate":
            p.add_argument("--org", help="the org about to be synced: its unset credential variables are errors "
                                         "(exit 1); other orgs' are warnings")
        p.set_defaults(func=func)
    from . import orgs as orgs_cli

    orgs_cli.register(orgs)

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

    from . import health as health_cli
    from . import limits as compliance_cli
    from . import reports as reports_cli
    from . import sandbox as sandbox_cli
    from . import specialties as specialties_cli
    from . import warehouse as warehouse_cli
    from . import webhooks as webhooks_cli
    from . import writeback as writeback_cli

    for module in (sandbox_cli, warehouse_cli, compliance_cli, health_cli, reports_cli, specialties_cli, webhooks_cli,
                   writeback_cli):
        module.register(sub)
    return parser


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
    from ..orgs import RegistryError
    from ..settings import SettingsError
    from ..warehouse.db import WarehouseMissingError

    try:
        return int(args.func(args) or 0)
    except (RegistryError, SettingsError, WarehouseMissingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
