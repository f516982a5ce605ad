"""`rm-pipelines db …` and `rm-pipelines keys …`: schema migrations, EstateCore loads and encryption keys.

Registered by the main CLI through `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import json
import sys


def _engine(url: str | None):  # noqa: ANN202
    from ..settings import get_settings
    from ..warehouse.db import create_warehouse_engine

    return create_warehouse_engine(url or get_settings().database_url)


def _cmd_upgrade(args: argparse.Namespace) -> int:
    from ..warehouse.db import redact_url
    from ..warehouse.migrate import current_revision, upgrade

    engine = _engine(args.url)
    before = current_revision(engine)
    after = upgrade(engine, args.revision)
    where = redact_url(str(engine.url.render_as_string(hide_password=False)))
    print(f"{where}: {before or '(empty)'} → {after}" if before != after else f"{where}: already at {after}")
    return 0


def _cmd_current(args: argparse.Namespace) -> int:
    from ..settings import get_settings
    from ..warehouse.db import WarehouseMissingError, create_warehouse_engine
    from ..warehouse.migrate import current_revision, head_revision

    head = head_revision()
    try:  # read-only: never create the database, its files or schemas
        engine = create_warehouse_engine(args.url or get_settings().database_url, existing_only=True)
    except WarehouseMissingError as exc:
        print(f"current: (no database); head: {head}  → {exc}")
        return 1
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    print(f"current: {current or '(not migrated)'}; head: {head}" + ("" if current == head else "  → run `rm-pipelines db upgrade`"))
    return 0 if current == head else 1


def _cmd_load(args: argparse.Namespace) -> int:
    import uuid

    from ..flows.load import load_all
    from ..orgs import load_registry

    org = load_registry(args.orgs).get(args.org)
    engine = _engine(args.url)
    run_id = args.run_id or f"cli-{uuid.uuid4().hex[:12]}"
    reports = load_all(engine, org=org, run_id=run_id, mode="full" if args.full else "incremental",
                       tables=args.table or None, quarantine_threshold=args.threshold)
    worst = 0
    print(f"{'table':<22}{'inserted':>10}{'updated':>10}{'same':>10}{'deleted':>10}{'revived':>9}{'quarant.':>10}{'rows':>10}{'score':>8}")
    for name, r in reports.items():
        print(f"{name:<22}{r.inserted:>10}{r.updated:>10}{r.unchanged:>10}{r.soft_deleted:>10}{r.revived:>9}"
              f"{r.quarantined:>10}{r.rows_in_table:>10}{r.quality_score:>8.4f}")
        if r.check_severity == "ERROR":
            worst = 1
    return worst


def _cmd_keys_generate(args: argparse.Namespace) -> int:
    from ..warehouse.crypto import generate_key

    print(generate_key())
    return 0


def _cmd_keys_rotate(args: argparse.Namespace) -> int:
    from ..warehouse.crypto import (
        ENV_VAR,
        EncryptionKeyError,
        get_keyring,
        prepend_key_to_file,
        retire_old_file_keys,
    )
    from ..warehouse.keys import rotate_all

    try:
        ring = prepend_key_to_file() if args.new_key else get_keyring(create=False)
    except EncryptionKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine = _engine(args.url)
    from ..warehouse.migrate import upgrade

    upgrade(engine)
    counts = rotate_all(engine, ring)
    print(json.dumps({"keys": len(ring.keys), "source": ring.source.split(":", 1)[0], "rotated": counts}, indent=2))
    if ring.source.startswith("file:"):
        if not args.keep_old:
            retire_old_file_keys()
            print("old keys removed from the key file")
    elif len(ring.keys) > 1:
        print(f"every value now uses the first key of {ENV_VAR}; you can remove the older keys from it")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `db` and `keys` command groups to the main parser."""
    db = subparsers.add_parser(
        "db", help="EstateCore database: schema migrations and loads",
        description="The EstateCore warehouse (ESTATECORE_DATABASE_URL, default a SQLite file in the data dir): "
                    "Alembic migrations of the estatecore, rm_raw and ops schemas, and loads from rm_raw.",
    ).add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    up = db.add_parser("upgrade", help="migrate the database to the latest schema",
                       description="Apply the Alembic migrations shipped with rm_pipelines (creates the ops, rm_raw "
                                   "and estatecore tables on an empty database). Safe to run repeatedly and "
                                   "concurrently.")
    up.add_argument("--url", help="SQLAlchemy URL (default: ESTATECORE_DATABASE_URL / the data-dir SQLite file)")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(func=_cmd_upgrade)
    cur = db.add_parser("current", help="show the schema revision; exit 1 when an upgrade is due",
                        description="Print the database's migration revision and the latest one shipped.")
    cur.add_argument("--url", help="SQLAlchemy URL (default: ESTATECORE_DATABASE_URL)")
    cur.set_defaults(func=_cmd_current)
    ld = db.add_parser("load", help="load EstateCore tables of an org from rm_raw (outside Dagster)",
                       description="Validate, map and upsert rm_raw rows into the EstateCore tables of one org, "
                                   "parents first. Exit 1 when a table's quarantined share exceeds the threshold.")
    ld.add_argument("--org", required=True, help="org id from the registry")
    ld.add_argument("--table", action="append", help="EstateCore table (repeatable; default: all)")
    ld.add_argument("--full", action="store_true", help="reprocess every raw row (default: incremental)")
    ld.add_argument("--threshold", type=float, default=0.01, help="quarantined share that fails (default 0.01)")
    ld.add_argument("--run-id", help="run id recorded in audit rows (default: generated)")
    ld.add_argument("--orgs", help="registry file (default: RM_PIPELINES_ORGS or the bundled demo registry)")
    ld.add_argument("--url", help="SQLAlchemy URL (default: ESTATECORE_DATABASE_URL)")
    ld.set_defaults(func=_cmd_load)

    keys = subparsers.add_parser(
        "keys", help="encryption keys for sensitive fields",
        description="Sensitive fields (SSNs, birth dates, incomes, assets) are encrypted with Fernet keys from "
                    "ESTATECORE_ENCRYPTION_KEYS (comma-separated, newest first), or — when it is unset — from the "
                    "generated key file <data dir>/estatecore.keys (mode 0600).",
    ).add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    gen = keys.add_parser("generate", help="print a new random key",
                          description="Print a new Fernet key. To rotate: put it FIRST in ESTATECORE_ENCRYPTION_KEYS "
                                      "(keep the old key after it), run `rm-pipelines keys rotate`, then remove the "
                                      "old key.")
    gen.set_defaults(func=_cmd_keys_generate)
    rot = keys.add_parser("rotate", help="re-encrypt every stored sensitive value with the first key",
                          description="Re-encrypt the encrypted EstateCore columns, UDF values, raw payloads and "
                                      "quarantined rows with the first (newest) key. With the key file, --new-key "
                                      "generates the new key first and old keys are dropped afterwards.")
    rot.add_argument("--url", help="SQLAlchemy URL (default: ESTATECORE_DATABASE_URL)")
    rot.add_argument("--new-key", action="store_true", help="key-file mode: generate a new primary key first")
    rot.add_argument("--keep-old", action="store_true", help="key-file mode: keep the old keys in the file")
    rot.set_defaults(func=_cmd_keys_rotate)
