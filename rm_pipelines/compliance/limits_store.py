"""Versioned JSON storage of imported HUD tables, and the bundled §15 sample tables.

Layout::

    <data dir>/reference/limits/<kind>/FY<year>/v0001.json, v0002.json, ...

Each file holds one import: kind, fiscal year, effective and release dates, the source file's name and
SHA-256, the import time, and every table. Re-importing an identical file (same hash and dates) creates no
new version; anything else creates the next version, and older versions are kept (nothing is deleted).
The latest version of each (kind, fiscal year) is what :func:`stored_library` loads.

The bundled sample tables (compliance-rules.md §15) are CSV files in HUD's layouts under
``rm_pipelines/compliance/data/``, listed in ``data/manifest.json`` and read by the same loaders.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from .. import clock
from . import hud_files
from .limits import (
    FairMarketRents,
    HomeRentTable,
    IncomeLimitTable,
    LimitsLibrary,
    ReferenceTable,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
FORMAT_VERSION = 1


def store_root(data_dir: Path | None = None) -> Path:
    """``<data dir>/reference/limits`` (data dir from ``rm_pipelines.settings.get_settings()``)."""
    if data_dir is None:
        from rm_pipelines.settings import get_settings

        data_dir = get_settings().data_dir
    return Path(data_dir) / "reference" / "limits"


# -- serialisation ---------------------------------------------------------------------------------------


def _dec_list(values) -> list[str] | None:
    return None if values is None else [str(v) for v in values]


def table_to_dict(table: ReferenceTable) -> dict[str, Any]:
    """JSON-ready form of a reference table (money and limits as strings, exact)."""
    if isinstance(table, IncomeLimitTable):
        return {
            "type": "income-limits",
            "kind": table.kind,
            "area": table.area,
            "area_name": table.area_name,
            "fips": table.fips,
            "fiscal_year": table.fiscal_year,
            "effective_date": table.effective_date.isoformat() if table.effective_date else None,
            "released_date": table.released_date.isoformat() if table.released_date else None,
            "median_income": str(table.median_income) if table.median_income is not None else None,
            "vli_50": _dec_list(table.vli_50),
            "rows": {str(p): _dec_list(v) for p, v in sorted(table.rows.items())},
            "derive_percentages": table.derive_percentages,
            "hera_special": table.hera_special,
            "hera": table_to_dict(table.hera) if table.hera is not None else None,
        }
    if isinstance(table, FairMarketRents):
        return {
            "type": "fmr",
            "kind": table.kind,
            "area": table.area,
            "area_name": table.area_name,
            "fips": table.fips,
            "zip_code": table.zip_code,
            "hud_area_code": table.hud_area_code,
            "fiscal_year": table.fiscal_year,
            "effective_date": table.effective_date.isoformat() if table.effective_date else None,
            "released_date": table.released_date.isoformat() if table.released_date else None,
            "rents": _dec_list(table.rents),
            "payment_standard_90": _dec_list(table.payment_standard_90),
            "payment_standard_110": _dec_list(table.payment_standard_110),
        }
    if isinstance(table, HomeRentTable):
        return {
            "type": "home-rents",
            "kind": "home-rents",
            "area": table.area,
            "area_name": table.area_name,
            "fiscal_year": table.fiscal_year,
            "effective_date": table.effective_date.isoformat() if table.effective_date else None,
            "released_date": table.released_date.isoformat() if table.released_date else None,
            "low": _dec_list(table.low),
            "high": _dec_list(table.high),
        }
    raise TypeError(f"not a reference table: {type(table).__name__}")


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _decs(values) -> tuple[Decimal, ...] | None:
    return None if values is None else tuple(Decimal(v) for v in values)


def table_from_dict(data: dict[str, Any]) -> ReferenceTable:
    """Inverse of :func:`table_to_dict`."""
    kind = data["type"]
    if kind == "income-limits":
        return IncomeLimitTable(
            area=data["area"],
            fiscal_year=int(data["fiscal_year"]),
            vli_50=_decs(data["vli_50"]),
            rows={int(p): _decs(v) for p, v in (data.get("rows") or {}).items()},
            kind=data["kind"],
            effective_date=_date(data.get("effective_date")),
            released_date=_date(data.get("released_date")),
            area_name=data.get("area_name") or "",
            fips=data.get("fips"),
            median_income=Decimal(data["median_income"]) if data.get("median_income") else None,
            derive_percentages=bool(data.get("derive_percentages", True)),
            hera_special=bool(data.get("hera_special")),
            hera=table_from_dict(data["hera"]) if data.get("hera") else None,
        )
    if kind == "fmr":
        return FairMarketRents(
            area=data["area"],
            fiscal_year=int(data["fiscal_year"]),
            rents=_decs(data["rents"]),
            kind=data["kind"],
            effective_date=_date(data.get("effective_date")),
            released_date=_date(data.get("released_date")),
            area_name=data.get("area_name") or "",
            fips=data.get("fips"),
            zip_code=data.get("zip_code"),
            hud_area_code=data.get("hud_area_code"),
            payment_standard_90=_decs(data.get("payment_standard_90")),
            payment_standard_110=_decs(data.get("payment_standard_110")),
        )
    if kind == "home-rents":
        return HomeRentTable(
            area=data["area"],
            fiscal_year=int(data["fiscal_year"]),
            low=_decs(data["low"]),
            high=_decs(data["high"]),
            effective_date=_date(data.get("effective_date")),
            released_date=_date(data.get("released_date")),
            area_name=data.get("area_name") or "",
        )
    raise ValueError(f"unknown stored table type {kind!r}")


# -- bundled sample data ----------------------------------------------------------------------------------


def load_bundled_tables() -> list[ReferenceTable]:
    """The §15 sample tables (HUD layouts) listed in ``data/manifest.json``, via the HUD loaders."""
    manifest = json.loads((DATA_DIR / "manifest.json").read_text(encoding="utf-8"))
    tables: list[ReferenceTable] = []
    for entry in manifest["files"]:
        tables.extend(
            hud_files.load(
                entry["kind"],
                DATA_DIR / entry["file"],
                int(entry["fiscal_year"]),
                date.fromisoformat(entry["effective_date"]),
                _date(entry.get("released_date")),
            )
        )
    return tables


# -- the store --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredImport:
    """One stored import (one version of one kind and fiscal year)."""

    path: Path
    kind: str
    fiscal_year: int
    version: int
    effective_date: date
    released_date: date | None
    source_file: str
    source_sha256: str
    imported_at: str
    table_count: int
    latest: bool = False
    created: bool = True

    def as_row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "fiscal_year": self.fiscal_year,
            "version": self.version,
            "latest": self.latest,
            "effective_date": self.effective_date.isoformat(),
            "released_date": self.released_date.isoformat() if self.released_date else None,
            "tables": self.table_count,
            "source_file": self.source_file,
            "source_sha256": self.source_sha256,
            "imported_at": self.imported_at,
            "path": str(self.path),
        }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_meta(path: Path, latest: bool = False) -> StoredImport:
    data = json.loads(path.read_text(encoding="utf-8"))
    return StoredImport(
        path=path,
        kind=data["kind"],
        fiscal_year=int(data["fiscal_year"]),
        version=int(data["version"]),
        effective_date=date.fromisoformat(data["effective_date"]),
        released_date=_date(data.get("released_date")),
        source_file=data["source_file"],
        source_sha256=data["source_sha256"],
        imported_at=data["imported_at"],
        table_count=int(data["table_count"]),
        latest=latest,
        created=False,
    )


def _versions(folder: Path) -> list[Path]:
    return sorted(folder.glob("v*.json"))


def import_file(
    path: str | Path,
    kind: str,
    fiscal_year: int,
    effective_date: date,
    released_date: date | None = None,
    *,
    sheet: str | None = None,
    data_dir: Path | None = None,
) -> StoredImport:
    """Load a HUD file with the loader for ``kind`` and store it as the next version (§1.2 versioning).

    Raises :class:`~rm_pipelines.compliance.hud_files.HudFileError` when the layout does not match.
    Identical re-imports (same content hash and dates) return the existing version with ``created=False``.
    """
    path = Path(path)
    tables = hud_files.load(kind, path, fiscal_year, effective_date, released_date, sheet)
    digest = _sha256(path)
    folder = store_root(data_dir) / kind / f"FY{fiscal_year}"
    folder.mkdir(parents=True, exist_ok=True)
    existing = _versions(folder)
    if existing:
        last = _read_meta(existing[-1], latest=True)
        if (
            last.source_sha256 == digest
            and last.effective_date == effective_date
            and last.released_date == released_date
        ):
            return last
        version = last.version + 1
    else:
        version = 1
    imported_at = clock.utcnow().isoformat(timespec="seconds")
    payload = {
        "format": FORMAT_VERSION,
        "kind": kind,
        "fiscal_year": fiscal_year,
        "version": version,
        "effective_date": effective_date.isoformat(),
        "released_date": released_date.isoformat() if released_date else None,
        "source_file": path.name,
        "source_sha256": digest,
        "imported_at": imported_at,
        "table_count": len(tables),
        "tables": [table_to_dict(t) for t in tables],
    }
    target = folder / f"v{version:04d}.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(target)
    return StoredImport(
        path=target, kind=kind, fiscal_year=fiscal_year, version=version, effective_date=effective_date,
        released_date=released_date, source_file=path.name, source_sha256=digest, imported_at=imported_at,
        table_count=len(tables), latest=True, created=True,
    )


def list_imports(data_dir: Path | None = None, kind: str | None = None) -> list[StoredImport]:
    """Every stored version, oldest first per (kind, fiscal year); ``latest`` marks the one in use."""
    root = store_root(data_dir)
    if not root.exists():
        return []
    out: list[StoredImport] = []
    for kind_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if kind and kind_dir.name != kind:
            continue
        for fy_dir in sorted(p for p in kind_dir.iterdir() if p.is_dir()):
            files = _versions(fy_dir)
            for i, f in enumerate(files):
                out.append(_read_meta(f, latest=(i == len(files) - 1)))
    return out


def load_store_tables(data_dir: Path | None = None) -> list[ReferenceTable]:
    """Tables of the latest version of every stored (kind, fiscal year)."""
    tables: list[ReferenceTable] = []
    for meta in list_imports(data_dir):
        if meta.latest:
            data = json.loads(meta.path.read_text(encoding="utf-8"))
            tables.extend(table_from_dict(t) for t in data["tables"])
    return tables


def bundled_library(*, backfill_earliest: bool = False) -> LimitsLibrary:
    """The §15 sample tables shipped under ``rm_pipelines/compliance/data`` (works offline)."""
    return LimitsLibrary(load_bundled_tables(), backfill_earliest=backfill_earliest)


def stored_library(data_dir: Path | None = None, *, include_bundled: bool = True,
                   backfill_earliest: bool = False) -> LimitsLibrary:
    """Bundled tables overlaid with the latest imported version of each (kind, fiscal year)."""
    tables: list[ReferenceTable] = list(load_bundled_tables()) if include_bundled else []
    tables.extend(load_store_tables(data_dir))
    return LimitsLibrary(tables, backfill_earliest=backfill_earliest)
