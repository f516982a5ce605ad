"""Readers for HUD's published reference-data layouts, CSV or XLSX (compliance-rules.md §1.2, §2.2, §3, §15).

| kind          | HUD file                               | columns read (YY = two-digit fiscal year)                       |
|---------------|----------------------------------------|------------------------------------------------------------------|
| ``mtsp``      | ``MTSP-Data-FYYY.xlsx``                | ``hud_area_code``, ``HUD_Area_Name``, ``fips``, ``medianYYYY``, ``lim50_YYpN``, ``lim60_YYpN``, ``HERA_Lim_typeYY``, ``lim50_HERA_YYpN``, ``lim60_HERA_YYpN`` |
| ``mtsp-ia``   | ``MTSP-IncAvg-Data-FYYY.xlsx``         | ``limNN_IA_YYpN`` (NN = 20/30/40/70/80), ``lim50_YYpN``, ``lim60_YYpN`` |
| ``section8``  | ``Section8-FYYY.xlsx`` (income limits) | ``l50_N``, ``ELI_N`` (kept as the 30 % row), ``l80_N``, ``medianYYYY`` |
| ``nonmetro``  | national non-metro VLI                 | ``l50_N`` / ``lim50_YYpN`` / ``vli_N``                            |
| ``fmr``       | ``FYYY_FMRs.xlsx``                     | ``fmr_0``..``fmr_4`` (or ``fmr0``..), ``hud_area_code``, ``hud_area_name``, ``fips`` |
| ``safmr``     | ``fyYY_safmrs.xlsx``                   | ``ZIP Code``, ``HUD Area Code``, ``SAFMR nBR``, ``SAFMR nBR - 90% Payment Standard``, ``… - 110% …`` |
| ``home-rents``| HOME rent limits                       | one row per area and program line: ``Program`` (LOW/HIGH HOME RENT LIMIT), ``EFFICIENCY``, ``1 BEDROOM``..``6 BEDROOM`` |

Headers are matched case-insensitively with whitespace collapsed. N is the household size 1-8. One table is
returned per row (county or town); :class:`~rm_pipelines.compliance.limits.LimitsLibrary` indexes them by
HUD area code and by FIPS.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterator

from .limits import (
    NATIONAL_NONMETRO_AREA,
    FairMarketRents,
    HomeRentTable,
    IncomeLimitTable,
)

KINDS = ("mtsp", "mtsp-ia", "section8", "nonmetro", "fmr", "safmr", "home-rents")


class HudFileError(ValueError):
    """The file does not have the HUD layout expected for its kind (message names file and column)."""


def _norm(header: Any) -> str:
    return re.sub(r"\s+", " ", str(header or "")).strip().lower()


@dataclass
class _Sheet:
    path: Path
    headers: list[str]
    rows: list[dict[str, Any]]

    def need(self, column: str) -> str:
        col = _norm(column)
        if col not in self.headers:
            raise HudFileError(f"{self.path.name}: missing column {column!r}")
        return col

    def has(self, column: str) -> bool:
        return _norm(column) in self.headers

    def first(self, *candidates: str) -> str | None:
        for c in candidates:
            if _norm(c) in self.headers:
                return _norm(c)
        return None


def read_rows(path: str | Path, sheet: str | None = None, header_hint: tuple[str, ...] = ()) -> _Sheet:
    """Read a CSV or XLSX file into normalised-header dict rows.

    XLSX: the first worksheet (or ``sheet``); the header is the first row that contains one of
    ``header_hint`` (HUD workbooks sometimes have title rows). Empty rows are skipped.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raw = list(_xlsx_rows(path, sheet))
    elif suffix in (".csv", ".txt"):
        with path.open(newline="", encoding="utf-8-sig") as fh:
            raw = [row for row in csv.reader(fh)]
    else:
        raise HudFileError(f"{path.name}: unsupported file type {suffix!r} (use .csv or .xlsx)")
    hints = {_norm(h) for h in header_hint}
    header_index = 0
    if hints:
        for i, row in enumerate(raw[:30]):
            if hints & {_norm(c) for c in row}:
                header_index = i
                break
        else:
            raise HudFileError(f"{path.name}: no header row with any of {sorted(header_hint)}")
    headers = [_norm(c) for c in raw[header_index]] if raw else []
    rows = []
    for values in raw[header_index + 1 :]:
        if not any(v not in (None, "") for v in values):
            continue
        rows.append({h: v for h, v in zip(headers, values) if h})
    return _Sheet(path, headers, rows)


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        for row in ws.iter_rows(values_only=True):
            yield list(row)
    finally:
        wb.close()


def _num(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise HudFileError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        # openpyxl returns numeric cells as float; HUD's cells are whole dollars, so repr is exact.
        return Decimal(repr(value))
    text = str(value).strip().replace(",", "").replace("$", "")
    if text in ("", "-", "NA", "N/A", "n/a"):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise HudFileError(f"{where}: expected a number, got {value!r}") from None


def _whole(d: Decimal | None) -> Decimal | None:
    if d is None:
        return None
    return Decimal(int(d)) if d == d.to_integral_value() else d


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _size_row(sheet: _Sheet, row: dict, pattern: str, where: str, required: bool = True) -> tuple[Decimal, ...] | None:
    values = []
    for n in range(1, 9):
        col = _norm(pattern.format(n=n))
        if col not in sheet.headers:
            if required:
                raise HudFileError(f"{sheet.path.name}: missing column {pattern.format(n=n)!r}")
            return None
        values.append(_whole(_num(row.get(col), f"{where} {pattern.format(n=n)}")))
    if all(v is None for v in values):
        return None
    if any(v is None for v in values):
        raise HudFileError(f"{where}: incomplete {pattern} row: {values}")
    return tuple(values)


def _fy_suffix(sheet: _Sheet, fiscal_year: int, probe: str) -> str:
    """Check that the file's year-suffixed columns match ``fiscal_year`` (e.g. lim50_26p1 for 2026)."""
    yy = f"{fiscal_year % 100:02d}"
    if sheet.has(probe.format(yy=yy)):
        return yy
    pattern = re.compile(re.escape(_norm(probe)).replace(r"\{yy\}", r"(\d\d)"))
    found = sorted({m.group(1) for h in sheet.headers if (m := pattern.fullmatch(h))})
    if found:
        raise HudFileError(
            f"{sheet.path.name}: columns are for FY{'/'.join(found)}, not FY{yy} (check --fiscal-year)"
        )
    raise HudFileError(f"{sheet.path.name}: missing column {probe.format(yy=yy)!r}")


def _fips(row: dict) -> str | None:
    raw = _text(row.get("fips") or row.get("fips2010"))
    if not raw:
        return None
    return raw.zfill(10) if raw.isdigit() else raw


def _area(sheet: _Sheet, row: dict, where: str) -> str:
    col = sheet.first("hud_area_code", "hud area code")
    code = _text(row.get(col)) if col else ""
    if not code:
        code = _fips(row) or ""
    if not code:
        raise HudFileError(f"{where}: no hud_area_code or fips")
    return code


def _area_name(sheet: _Sheet, row: dict) -> str:
    col = sheet.first("hud_area_name", "hud area name", "areaname", "hud metro fair market rent area name", "area name")
    return _text(row.get(col)) if col else ""


def _median(sheet: _Sheet, row: dict, fiscal_year: int, where: str) -> Decimal | None:
    col = sheet.first(f"median{fiscal_year}", "median")
    return _whole(_num(row.get(col), where)) if col else None


# -------------------------------------------------------------------------------------------------


def load_mtsp(path, fiscal_year: int, effective_date: date, released_date: date | None = None, sheet: str | None = None) -> list[IncomeLimitTable]:
    """MTSP income limits (``lim50_YYpN``, ``lim60_YYpN``, HERA Special columns and flag), one table per row.

    The 60 % row is kept as published (HUD computes it as 1.2 × the 50 % row, §1.2). Rows flagged
    ``HERA_Lim_typeYY = Special`` carry the HERA Special 50/60 % rows as ``table.hera``.
    """
    s = read_rows(path, sheet, header_hint=("hud_area_code", "fips"))
    yy = _fy_suffix(s, fiscal_year, "lim50_{yy}p1")
    flag_col = s.first(f"HERA_Lim_type{yy}")
    tables = []
    for i, row in enumerate(s.rows, start=2):
        where = f"{s.path.name} row {i}"
        vli = _size_row(s, row, f"lim50_{yy}p{{n}}", where)
        if vli is None:
            continue
        rows = {}
        lim60 = _size_row(s, row, f"lim60_{yy}p{{n}}", where, required=False)
        if lim60 is not None:
            rows[60] = lim60
        area = _area(s, row, where)
        special = bool(flag_col) and _text(row.get(flag_col)).lower().startswith("special")
        hera = None
        if special:
            hera_vli = _size_row(s, row, f"lim50_HERA_{yy}p{{n}}", where, required=False)
            if hera_vli is not None:
                hera_rows = {}
                hera60 = _size_row(s, row, f"lim60_HERA_{yy}p{{n}}", where, required=False)
                if hera60 is not None:
                    hera_rows[60] = hera60
                hera = IncomeLimitTable(
                    area=area, fiscal_year=fiscal_year, vli_50=hera_vli, rows=hera_rows, kind="mtsp-hera",
                    effective_date=effective_date, released_date=released_date, area_name=_area_name(s, row),
                    fips=_fips(row),
                )
        tables.append(
            IncomeLimitTable(
                area=area, fiscal_year=fiscal_year, vli_50=vli, rows=rows, kind="mtsp",
                effective_date=effective_date, released_date=released_date, area_name=_area_name(s, row),
                fips=_fips(row), median_income=_median(s, row, fiscal_year, where),
                hera_special=hera is not None, hera=hera,
            )
        )
    if not tables:
        raise HudFileError(f"{s.path.name}: no MTSP rows")
    return tables


IA_PERCENTAGES = (20, 30, 40, 50, 60, 70, 80)


def load_income_averaging(path, fiscal_year: int, effective_date: date, released_date: date | None = None, sheet: str | None = None) -> list[IncomeLimitTable]:
    """MTSP income-averaging limits (``limNN_IA_YYpN`` for 20/30/40/70/80 % plus the 50/60 % columns)."""
    s = read_rows(path, sheet, header_hint=("hud_area_code", "fips"))
    yy = _fy_suffix(s, fiscal_year, "lim50_{yy}p1")
    tables = []
    for i, row in enumerate(s.rows, start=2):
        where = f"{s.path.name} row {i}"
        vli = _size_row(s, row, f"lim50_{yy}p{{n}}", where)
        if vli is None:
            continue
        rows = {}
        for pct in IA_PERCENTAGES:
            if pct == 50:
                continue
            pattern = f"lim{pct}_{yy}p{{n}}" if pct == 60 else f"lim{pct}_IA_{yy}p{{n}}"
            values = _size_row(s, row, pattern, where, required=False)
            if values is not None:
                rows[pct] = values
        tables.append(
            IncomeLimitTable(
                area=_area(s, row, where), fiscal_year=fiscal_year, vli_50=vli, rows=rows, kind="mtsp-ia",
                effective_date=effective_date, released_date=released_date, area_name=_area_name(s, row),
                fips=_fips(row),
            )
        )
    if not tables:
        raise HudFileError(f"{s.path.name}: no income-averaging rows")
    return tables


def load_section8(path, fiscal_year: int, effective_date: date, released_date: date | None = None, sheet: str | None = None) -> list[IncomeLimitTable]:
    """Section 8 income limits: ``l50_N`` (VLI), ``ELI_N`` (kept as the 30 % row), ``l80_N`` (Low).

    These tables never derive other percentages (``derive_percentages=False``): HUD's ELI and Low limits
    are capped and adjusted and are **not** N/50 × VLI (§1.2).
    """
    s = read_rows(path, sheet, header_hint=("l50_1",))
    if s.has(f"median{fiscal_year}") is False and any(h.startswith("median20") for h in s.headers):
        found = [h for h in s.headers if h.startswith("median20")]
        raise HudFileError(f"{s.path.name}: columns are for {found}, not median{fiscal_year} (check --fiscal-year)")
    tables = []
    for i, row in enumerate(s.rows, start=2):
        where = f"{s.path.name} row {i}"
        vli = _size_row(s, row, "l50_{n}", where)
        if vli is None:
            continue
        rows = {}
        eli = _size_row(s, row, "ELI_{n}", where, required=False)
        if eli is not None:
            rows[30] = eli
        low = _size_row(s, row, "l80_{n}", where, required=False)
        if low is not None:
            rows[80] = low
        tables.append(
            IncomeLimitTable(
                area=_area(s, row, where), fiscal_year=fiscal_year, vli_50=vli, rows=rows, kind="section8",
                effective_date=effective_date, released_date=released_date, area_name=_area_name(s, row),
                fips=_fips(row), median_income=_median(s, row, fiscal_year, where), derive_percentages=False,
            )
        )
    if not tables:
        raise HudFileError(f"{s.path.name}: no Section 8 income-limit rows")
    return tables


def load_nonmetro(path, fiscal_year: int, effective_date: date, released_date: date | None = None, sheet: str | None = None) -> list[IncomeLimitTable]:
    """The national non-metropolitan 50 % row used for the rural floor (§1.2, §42(i)(8)).

    Accepts ``l50_N``, ``vli_N`` or ``lim50_YYpN`` columns; the first data row is used. Its 60 % is
    1.2 × 50 % like every MTSP table (derived).
    """
    s = read_rows(path, sheet)
    yy = f"{fiscal_year % 100:02d}"
    for pattern in ("l50_{n}", "vli_{n}", f"lim50_{yy}p{{n}}"):
        if s.has(pattern.format(n=1)):
            break
    else:
        raise HudFileError(f"{s.path.name}: no l50_1 / vli_1 / lim50_{yy}p1 column")
    for i, row in enumerate(s.rows, start=2):
        vli = _size_row(s, row, pattern, f"{s.path.name} row {i}")
        if vli is not None:
            return [
                IncomeLimitTable(
                    area=NATIONAL_NONMETRO_AREA, fiscal_year=fiscal_year, vli_50=vli, kind="nonmetro",
                    effective_date=effective_date, released_date=released_date,
                    area_name="National non-metropolitan", median_income=_median(s, row, fiscal_year, s.path.name),
                )
            ]
    raise HudFileError(f"{s.path.name}: no data row")


def load_fmr(path, fiscal_year: int, effective_date: date, released_date: date | None = None, sheet: str | None = None) -> list[FairMarketRents]:
    """Area Fair Market Rents, 0-4 bedrooms (``fmr_0``..``fmr_4`` or ``fmr0``..``fmr4``)."""
    s = read_rows(path, sheet, header_hint=("hud_area_code", "fips", "fips2010"))
    pattern = "fmr_{n}" if s.has("fmr_0") else "fmr{n}" if s.has("fmr0") else None
    if pattern is None:
        raise HudFileError(f"{s.path.name}: missing column 'fmr_0'")
    tables = []
    for i, row in enumerate(s.rows, start=2):
        where = f"{s.path.name} row {i}"
        rents = [_whole(_num(row.get(_norm(pattern.format(n=b))), where)) for b in range(5)]
        if all(r is None for r in rents):
            continue
        if any(r is None for r in rents):
            raise HudFileError(f"{where}: incomplete FMR row {rents}")
        area = _area(s, row, where)
        tables.append(
            FairMarketRents(
                area=area, fiscal_year=fiscal_year, rents=tuple(rents), kind="fmr",
                effective_date=effective_date, released_date=released_date, area_name=_area_name(s, row),
                fips=_fips(row), hud_area_code=area,
            )
        )
    if not tables:
        raise HudFileError(f"{s.path.name}: no FMR rows")
    return tables


def load_safmr(path, fiscal_year: int, effective_date: date, released_date: date | None = None, sheet: str | None = None) -> list[FairMarketRents]:
    """Small Area FMRs by ZIP code with HUD's 90 %/110 % payment-standard columns (§2.2)."""
    s = read_rows(path, sheet, header_hint=("zip code", "zipcode", "zip"))
    zip_col = s.first("zip code", "zipcode", "zip")
    area_col = s.first("hud area code", "hud_area_code")
    tables = []
    for i, row in enumerate(s.rows, start=2):
        where = f"{s.path.name} row {i}"
        zip_code = _text(row.get(zip_col)).zfill(5)
        rents, p90, p110 = [], [], []
        for b in range(5):
            rents.append(_whole(_num(row.get(s.need(f"SAFMR {b}BR")), where)))
            col90 = s.first(f"SAFMR {b}BR - 90% Payment Standard")
            col110 = s.first(f"SAFMR {b}BR - 110% Payment Standard")
            p90.append(_whole(_num(row.get(col90), where)) if col90 else None)
            p110.append(_whole(_num(row.get(col110), where)) if col110 else None)
        if any(r is None for r in rents):
            raise HudFileError(f"{where}: incomplete SAFMR row {rents}")
        tables.append(
            FairMarketRents(
                area=zip_code, fiscal_year=fiscal_year, rents=tuple(rents), kind="safmr",
                effective_date=effective_date, released_date=released_date, area_name=_area_name(s, row),
                zip_code=zip_code, hud_area_code=_text(row.get(area_col)) if area_col else None,
                payment_standard_90=tuple(p90) if None not in p90 else None,
                payment_standard_110=tuple(p110) if None not in p110 else None,
            )
        )
    if not tables:
        raise HudFileError(f"{s.path.name}: no SAFMR rows")
    return tables


_BEDROOM_COLUMNS = (
    ("efficiency", "0br", "0 bedroom"),
    ("1 bedroom", "1br"),
    ("2 bedroom", "2br"),
    ("3 bedroom", "3br"),
    ("4 bedroom", "4br"),
    ("5 bedroom", "5br"),
    ("6 bedroom", "6br"),
)


def load_home_rents(path, fiscal_year: int, effective_date: date, released_date: date | None = None, sheet: str | None = None) -> list[HomeRentTable]:
    """HOME rent limits: rows per area with a ``Program`` column naming the line (``LOW HOME RENT LIMIT``,
    ``HIGH HOME RENT LIMIT``; other lines such as FMR or 50 %/65 % rent limits are ignored) and bedroom
    columns ``EFFICIENCY``, ``1 BEDROOM`` … ``6 BEDROOM``.
    """
    s = read_rows(path, sheet, header_hint=("program",))
    program_col = s.need("program")
    area_col = s.first("hud_area_code", "hud area code", "area code", "area name", "areaname", "hud_area_name")
    if area_col is None:
        raise HudFileError(f"{s.path.name}: missing an area column (hud_area_code or area name)")
    bed_cols = []
    for options in _BEDROOM_COLUMNS:
        col = s.first(*options)
        if col is None:
            break
        bed_cols.append(col)
    if not bed_cols:
        raise HudFileError(f"{s.path.name}: missing bedroom columns (EFFICIENCY, 1 BEDROOM, ...)")
    found: dict[str, dict[str, tuple]] = {}
    names: dict[str, str] = {}
    for i, row in enumerate(s.rows, start=2):
        where = f"{s.path.name} row {i}"
        line = _text(row.get(program_col)).upper()
        which = "low" if "LOW HOME" in line else "high" if "HIGH HOME" in line else None
        if which is None:
            continue
        area = _text(row.get(area_col))
        values = tuple(_whole(_num(row.get(c), where)) for c in bed_cols)
        if any(v is None for v in values):
            raise HudFileError(f"{where}: incomplete HOME rent row {values}")
        found.setdefault(area, {})[which] = values
        names[area] = _area_name(s, row) or area
    tables = []
    for area, lines in found.items():
        if set(lines) != {"low", "high"}:
            raise HudFileError(f"{s.path.name}: area {area!r} lacks a {'LOW' if 'low' not in lines else 'HIGH'} HOME line")
        tables.append(
            HomeRentTable(
                area=area, fiscal_year=fiscal_year, low=lines["low"], high=lines["high"],
                effective_date=effective_date, released_date=released_date, area_name=names[area],
            )
        )
    if not tables:
        raise HudFileError(f"{s.path.name}: no HOME rent rows")
    return tables


LOADERS = {
    "mtsp": load_mtsp,
    "mtsp-ia": load_income_averaging,
    "section8": load_section8,
    "nonmetro": load_nonmetro,
    "fmr": load_fmr,
    "safmr": load_safmr,
    "home-rents": load_home_rents,
}


def load(kind: str, path, fiscal_year: int, effective_date: date, released_date: date | None = None, sheet: str | None = None):
    """Dispatch to the loader for ``kind`` (one of :data:`KINDS`)."""
    try:
        loader = LOADERS[kind]
    except KeyError:
        raise HudFileError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}") from None
    return loader(path, fiscal_year, effective_date, released_date, sheet)
