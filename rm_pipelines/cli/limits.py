"""``rm-pipelines limits …``: import HUD reference files and list stored versions.

Wire it into the main CLI with::

    from rm_pipelines.cli import limits as compliance_cli
    compliance_cli.register(subparsers)      # subparsers = parser.add_subparsers(...)
    args = parser.parse_args(); return args.func(args)

Commands::

    rm-pipelines limits import FILE --kind mtsp --fiscal-year 2026 [--effective-date 2026-05-01]
                                    [--released-date YYYY-MM-DD] [--sheet NAME] [--data-dir DIR]
    rm-pipelines limits list [--kind KIND] [--json] [--data-dir DIR]

Kinds: mtsp, mtsp-ia, section8, nonmetro, fmr, safmr, home-rents. ``--effective-date`` is required unless
the kind and year are in :data:`KNOWN_EFFECTIVE_DATES` (FY2026 income limits: 2026-05-01, §0).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from ..compliance import hud_files, limits_store

KNOWN_EFFECTIVE_DATES: dict[tuple[str, int], date] = {
    ("mtsp", 2026): date(2026, 5, 1),
    ("mtsp-ia", 2026): date(2026, 5, 1),
    ("section8", 2026): date(2026, 5, 1),
    ("nonmetro", 2026): date(2026, 5, 1),
}
"""HUD effective dates stated in compliance-rules.md (§0: FY2026 income and MTSP limits, 2026-05-01)."""


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``limits`` command (with ``import`` and ``list``) to an argparse subparsers object. Each leaf
    sets ``func`` (call ``args.func(args)``; it returns the process exit code)."""
    limits = subparsers.add_parser("limits", help="HUD reference data: income limits, FMRs, HOME rents")
    sub = limits.add_subparsers(dest="limits_command", metavar="{import,list}")
    sub.required = True

    imp = sub.add_parser("import", help="import a HUD file (CSV or XLSX) as a new stored version")
    imp.add_argument("file", type=Path, help="the HUD file as published (CSV or XLSX)")
    imp.add_argument("--kind", required=True, choices=hud_files.KINDS,
                     help="which HUD table the file holds: " + ", ".join(hud_files.KINDS))
    imp.add_argument("--fiscal-year", required=True, type=int, help="HUD fiscal year of the file, e.g. 2026")
    imp.add_argument("--effective-date", type=_iso_date, help="HUD effective date (YYYY-MM-DD)")
    imp.add_argument("--released-date", type=_iso_date, help="HUD release date, for the 45-day rule (default: effective date)")
    imp.add_argument("--sheet", help="XLSX worksheet (default: the first)")
    imp.add_argument("--data-dir", type=Path, help="override the data dir (default: RM_PIPELINES_DATA_DIR)")
    imp.set_defaults(func=cmd_import)

    lst = sub.add_parser("list", help="list stored reference-data versions")
    lst.add_argument("--kind", choices=hud_files.KINDS, help="only this kind of table (default: all)")
    lst.add_argument("--json", action="store_true", help="print JSON lines")
    lst.add_argument("--data-dir", type=Path, help="override the data dir (default: RM_PIPELINES_DATA_DIR)")
    lst.set_defaults(func=cmd_list)
    return limits


def cmd_import(args: argparse.Namespace) -> int:
    effective = args.effective_date or KNOWN_EFFECTIVE_DATES.get((args.kind, args.fiscal_year))
    if effective is None:
        print(f"error: --effective-date is required for {args.kind} FY{args.fiscal_year}", file=sys.stderr)
        return 2
    if not args.file.exists():
        print(f"error: {args.file} does not exist", file=sys.stderr)
        return 2
    try:
        stored = limits_store.import_file(
            args.file, args.kind, args.fiscal_year, effective, args.released_date,
            sheet=args.sheet, data_dir=args.data_dir,
        )
    except hud_files.HudFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    verb = "stored" if stored.created else "unchanged (identical to)"
    print(
        f"{verb} {stored.kind} FY{stored.fiscal_year} v{stored.version}: {stored.table_count} tables, "
        f"effective {stored.effective_date.isoformat()} -> {stored.path}"
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    rows = [s.as_row() for s in limits_store.list_imports(args.data_dir, args.kind)]
    if args.json:
        for row in rows:
            print(json.dumps(row, sort_keys=True))
        return 0
    if not rows:
        print("no imported reference data (bundled §15 samples are always available)")
        return 0
    header = ("kind", "fiscal_year", "version", "latest", "effective_date", "tables", "source_file")
    print("  ".join(header))
    for row in rows:
        print("  ".join(str(row[h]) for h in header))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point: ``python -m rm_pipelines.cli.limits limits …``."""
    parser = argparse.ArgumentParser(prog="rm-pipelines")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
