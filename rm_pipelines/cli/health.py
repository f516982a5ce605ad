"""`rm-pipelines health --org ID`: is the org's integration healthy? The same verdict as the
`ops/integration_health` asset, from the warehouse's records (read-only)."""

from __future__ import annotations

import argparse
import json


def cmd_health(args: argparse.Namespace) -> int:
    from ..flows.health import org_health
    from ..orgs import load_registry
    from ..settings import get_settings
    from ..warehouse.migrate import open_existing

    org = load_registry(args.file).get(args.org)
    engine = open_existing(args.url or get_settings().database_url)
    try:
        verdict = org_health(engine, org)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps({"org": org.id, "status": verdict.status, "figures": verdict.figures,
                          "issues": [i.__dict__ for i in verdict.issues]}, indent=2, default=str))
    else:
        print(f"Integration health of org {org.id!r}: {verdict.status.upper()}")
        for name, value in verdict.figures.items():
            print(f"  {name:<28} {'-' if value is None else value}")
        for issue in verdict.issues:
            print(f"\n  [{issue.severity}] {issue.what}\n      what to do: {issue.recommendation}")
    return {"healthy": 0, "degraded": 1, "failing": 2}[verdict.status] if args.exit_code else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("health", help="an org's integration health: status, figures, issues and what to do",
                       description="Judge an org's integration from its last 30 days of syncs, freshness, error "
                                   "and 429 rates, data quality, quarantine, backlogs and compliance age "
                                   "(rules in rm_pipelines/health.py). Read-only.")
    p.add_argument("--org", required=True, help="org id from the registry")
    p.add_argument("--file", help="registry file (default: RM_PIPELINES_ORGS or the bundled demo registry)")
    p.add_argument("--url", help="warehouse URL (default: ESTATECORE_DATABASE_URL or the SQLite file in the data dir)")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.add_argument("--exit-code", action="store_true",
                   help="exit 0 healthy, 1 degraded, 2 failing (for monitoring scripts)")
    p.set_defaults(func=cmd_health)
