"""HUD reference data: income-limit, FMR and HOME rent tables, and the rules that pick the applicable one.

compliance-rules.md §1.2, §1.3, §1.7, §2.2, §3, §15. Limits are **data**, loaded from HUD's files and versioned
by fiscal year and effective date; the only arithmetic done on them is HUD's own (household-size factors
with ceil-to-$50, N/50 × the 50 % row, the mean of neighbours for fractional sizes).

Public API::

    table = IncomeLimitTable(area="METRO14460MM1120", fiscal_year=2026, vli_50=[60000, 68600, ...])
    table.limit(60, 3)            # 92580  (1.2 × the 3-person 50 % limit)
    table.limit(60, Decimal("1.5"))   # mean of the 1- and 2-person 60 % limits
    derive_household_sizes(85700) # (60000, 68600, 77150, 85700, 92600, 99450, 106300, 113150)

    library = limits_store.bundled_library()   # §15 sample tables shipped with the package
    ctx = LimitContext(area="METRO14460MM1120", placed_in_service=date(2019, 6, 1))
    library.lihtc_income_limits(ctx, date(2026, 7, 1))   # MTSP with 45-day rule, hold harmless, HERA, rural
    library.lihtc_rent_limits(ctx, date(2026, 7, 1))     # the above, floored at the gross-rent-floor table

Loaders for HUD's file layouts live in :mod:`rm_pipelines.compliance.hud_files`; the versioned JSON store, and
the libraries built from it (`bundled_library()`, `stored_library()`), in :mod:`rm_pipelines.compliance.limits_store`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Iterable, Mapping, Protocol, Sequence, Union

from .rounding import D, Money, ceil_to

# --------------------------------------------------------------------------------------------------
# Constants from compliance-rules.md
# --------------------------------------------------------------------------------------------------

SIZE_FACTORS_PCT: Mapping[int, int] = {1: 70, 2: 80, 3: 90, 4: 100, 5: 108, 6: 116, 7: 124, 8: 132}
"""HUD family-size adjustment factors (percent of the 4-person limit), §1.2."""

EXTRA_PERSON_FACTOR_PCT = 8
"""Sizes 9+: add 8 % of the 4-person figure per person above 8 (§1.2)."""

IMPLEMENTATION_GRACE_DAYS = 45
"""Rev. Rul. 94-57: prior limits may be used until 45 days after HUD releases new ones (§1.2)."""

HERA_PLACED_IN_SERVICE_CUTOFF = date(2008, 12, 31)
"""HERA Special limits only for projects placed in service on or before 12/31/2008 (§1.2)."""

NATIONAL_NONMETRO_AREA = "NATIONAL-NONMETRO"
"""Area key of the national non-metropolitan table used for the rural floor (§1.2, §42(i)(8))."""

SizeLike = Union[int, Decimal, Fraction, float, str]


class LimitUnavailable(LookupError):
    """No published limit covers the request (area, year, percentage or size)."""


# --------------------------------------------------------------------------------------------------
# Household sizes
# --------------------------------------------------------------------------------------------------


def derive_household_sizes(four_person_vli: Money) -> tuple[int, ...]:
    """The 1- to 8-person 50 % limits derived from the 4-person very-low-income limit (§1.2).

    Rule: size *n* = 4-person × HUD factor (0.70, 0.80, 0.90, 1.00, 1.08, 1.16, 1.24, 1.32), each result
    **rounded up to the next $50**; the 4-person figure itself is returned unchanged. Reproduces HUD's
    published FY2026 rows exactly (e.g. Boston 85,700 → 60,000 … 113,150; §15).
    """
    four = D(four_person_vli)
    out = []
    for size in range(1, 9):
        factor = SIZE_FACTORS_PCT[size]
        if size == 4:
            out.append(int(four) if four == four.to_integral_value() else four)
        else:
            out.append(ceil_to(four * factor / 100, 50))
    return tuple(out)


def _size_bounds(household_size: SizeLike) -> tuple[int, int]:
    """(lower, upper) whole sizes around ``household_size``; equal for whole sizes, ±.5 sizes span two."""
    if isinstance(household_size, bool):
        raise TypeError("household size must be a number")
    if isinstance(household_size, float):
        frac = Fraction(household_size)
    elif isinstance(household_size, (int, Fraction)):
        frac = Fraction(household_size)
    else:
        frac = Fraction(D(household_size))
    if frac < 1:
        raise ValueError(f"household size must be at least 1, got {household_size}")
    lower = frac.numerator // frac.denominator
    if frac == lower:
        return lower, lower
    if frac - lower != Fraction(1, 2):
        raise ValueError(f"household size must be whole or end in .5, got {household_size}")
    return lower, lower + 1


# --------------------------------------------------------------------------------------------------
# Income limit tables
# --------------------------------------------------------------------------------------------------


def _row(values: Sequence[Money], what: str) -> tuple[Decimal, ...]:
    row = tuple(D(v) for v in values)
    if len(row) != 8:
        raise ValueError(f"{what} needs 8 values (household sizes 1-8), got {len(row)}")
    if any(v <= 0 for v in row):
        raise ValueError(f"{what} values must be positive: {row}")
    return row


@dataclass(frozen=True, eq=False)
class IncomeLimitTable:
    """One area's income limits for one fiscal year (§1.2).

    ``vli_50`` is HUD's 50 % ("very low income") row for household sizes 1-8. ``rows`` holds any other
    *published* percentage rows (the MTSP 60 % row, income-averaging 20/30/40/70/80 % rows, Section 8 ELI
    as 30 % and "Low" as 80 %). Percentages without a published row are derived as **N/50 × the 50 % row,
    unrounded** (HUD's income-averaging method, updated 2026-05-18) — unless ``derive_percentages`` is
    False, as for Section 8 tables whose 30 % and 80 % figures HUD caps and adjusts differently (§1.2
    "LIHTC 80 % vs HUD low income 80 %").
    """

    area: str
    fiscal_year: int
    vli_50: tuple[Decimal, ...]
    rows: Mapping[int, tuple[Decimal, ...]] = field(default_factory=dict)
    kind: str = "mtsp"
    effective_date: date | None = None
    released_date: date | None = None
    area_name: str = ""
    fips: str | None = None
    median_income: Decimal | None = None
    derive_percentages: bool = True
    hera_special: bool = False
    """HUD flags this area "Special" for HERA this year; ``hera`` then holds the Special table."""
    hera: "IncomeLimitTable | None" = None
    provenance: tuple[str, ...] = ()
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "vli_50", _row(self.vli_50, f"{self.area} FY{self.fiscal_year} 50 % row"))
        rows = {int(pct): _row(values, f"{self.area} {pct} % row") for pct, values in dict(self.rows).items()}
        rows.pop(50, None)
        object.__setattr__(self, "rows", rows)
        if self.median_income is not None:
            object.__setattr__(self, "median_income", D(self.median_income))
        if not self.provenance:
            object.__setattr__(self, "provenance", (f"{self.kind} FY{self.fiscal_year}",))

    # -- versioning -------------------------------------------------------------------------------
    @property
    def mandatory_date(self) -> date | None:
        """Date from which these limits must be used: the later of HUD's effective date and 45 days after
        release (Rev. Rul. 94-57, §1.2). Until then the prior year's limits may still be used."""
        if self.effective_date is None:
            return None
        released = self.released_date or self.effective_date
        return max(self.effective_date, released + timedelta(days=IMPLEMENTATION_GRACE_DAYS))

    # -- lookups ----------------------------------------------------------------------------------
    def row(self, pct: int) -> tuple[Decimal, ...]:
        """The 1-8 person limits at ``pct`` % (published row, or N/50 × the 50 % row when derivable)."""
        pct = _check_pct(pct)
        if pct == 50:
            return self.vli_50
        published = self.rows.get(pct)
        if published is not None:
            return published
        if not self.derive_percentages:
            raise LimitUnavailable(
                f"{self.kind} table {self.area} FY{self.fiscal_year} publishes no {pct} % row "
                "(HUD's Section 8 30 %/80 % limits are not N/50 × VLI)"
            )
        cached = self._cache.get(("row", pct))
        if cached is None:
            cached = tuple(v * pct / 50 for v in self.vli_50)
            self._cache[("row", pct)] = cached
        return cached

    def limit(self, pct: int, household_size: SizeLike) -> Decimal:
        """The income limit at ``pct`` % of AMI for ``household_size`` persons (§1.2, §1.3).

        - ``pct``: 20..80 for HUD/LIHTC tiers (N/50 × the 50 % row, unrounded); other positive
          percentages up to 200 are accepted for state programs.
        - Whole sizes 1-8 read the table; sizes 9+ add 8 % of the 4-person figure per extra person
          (HUD's rule; *not* rounded to $50 — the conservative reading of "local agencies may round").
        - Fractional sizes (1.5, 4.5, …) are the **mean of the two neighbouring sizes**; no rounding.
        """
        key = (pct, household_size)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        lower, upper = _size_bounds(household_size)
        row = self.row(pct)
        if lower == upper:
            value = _size_value(row, lower)
        else:
            value = (_size_value(row, lower) + _size_value(row, upper)) / 2
        self._cache[key] = value
        return value

    def percentages(self) -> tuple[int, ...]:
        """Percentages with a published row (50 always)."""
        return tuple(sorted({50, *self.rows}))

    def with_rows(self, rows: Mapping[int, Sequence[Money]], provenance: str) -> "IncomeLimitTable":
        """A copy with extra published rows merged in (e.g. the income-averaging file's 20-80 % rows)."""
        merged = dict(self.rows)
        merged.update({int(p): v for p, v in rows.items() if int(p) != 50})
        return _copy(self, rows=merged, provenance=self.provenance + (provenance,))


def _size_value(row: tuple[Decimal, ...], size: int) -> Decimal:
    if size <= 8:
        return row[size - 1]
    return row[3] * (SIZE_FACTORS_PCT[8] + EXTRA_PERSON_FACTOR_PCT * (size - 8)) / 100


def _check_pct(pct: int) -> int:
    if isinstance(pct, bool) or not isinstance(pct, int):
        if isinstance(pct, Decimal) and pct == pct.to_integral_value():
            pct = int(pct)
        else:
            raise TypeError(f"percentage of AMI must be a whole number, got {pct!r}")
    if not 0 < pct <= 200:
        raise ValueError(f"percentage of AMI must be in 1..200, got {pct}")
    return pct


def _copy(table: IncomeLimitTable, **changes) -> IncomeLimitTable:
    values = {
        name: getattr(table, name)
        for name in (
            "area", "fiscal_year", "vli_50", "rows", "kind", "effective_date", "released_date", "area_name",
            "fips", "median_income", "derive_percentages", "hera_special", "hera", "provenance",
        )
    }
    values.update(changes)
    return IncomeLimitTable(**values)


def combine_max(tables: Sequence[IncomeLimitTable], *, kind: str = "applicable") -> IncomeLimitTable:
    """Per-size, per-percentage maximum of several tables (§1.7 ``applicable_IL(size) = max(...)``).

    Used for hold harmless (every year that applied to the project), HERA Special, the rural national
    non-metro floor, the 45-day window and the gross-rent floor. Published rows of any input are carried:
    for every percentage that any input publishes, the result row is the max of each input's row.
    """
    tables = [t for t in tables if t is not None]
    if not tables:
        raise ValueError("combine_max needs at least one table")
    if len(tables) == 1:
        return tables[0]
    vli = tuple(max(t.vli_50[i] for t in tables) for i in range(8))
    pcts = sorted({p for t in tables for p in t.rows})
    rows: dict[int, tuple[Decimal, ...]] = {}
    for pct in pcts:
        candidates = []
        for t in tables:
            try:
                candidates.append(t.row(pct))
            except LimitUnavailable:
                continue
        rows[pct] = tuple(max(r[i] for r in candidates) for i in range(8))
    latest = max(tables, key=lambda t: (t.fiscal_year, t.effective_date or date.min))
    provenance: list[str] = []
    for t in tables:
        for p in t.provenance:
            if p not in provenance:
                provenance.append(p)
    return IncomeLimitTable(
        area=latest.area,
        fiscal_year=latest.fiscal_year,
        vli_50=vli,
        rows=rows,
        kind=kind,
        effective_date=latest.effective_date,
        released_date=latest.released_date,
        area_name=latest.area_name,
        fips=latest.fips,
        median_income=latest.median_income,
        derive_percentages=all(t.derive_percentages for t in tables),
        provenance=tuple(provenance),
    )


# --------------------------------------------------------------------------------------------------
# FMR / SAFMR and HOME rent tables
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FairMarketRents:
    """HUD Fair Market Rents (area) or Small Area FMRs (ZIP) for 0-4 bedrooms (§2.2)."""

    area: str
    fiscal_year: int
    rents: tuple[Decimal, ...]
    kind: str = "fmr"  # "fmr" | "safmr"
    effective_date: date | None = None
    released_date: date | None = None
    area_name: str = ""
    fips: str | None = None
    zip_code: str | None = None
    hud_area_code: str | None = None
    payment_standard_90: tuple[Decimal, ...] | None = None
    payment_standard_110: tuple[Decimal, ...] | None = None

    def __post_init__(self) -> None:
        rents = tuple(D(v) for v in self.rents)
        if len(rents) != 5:
            raise ValueError(f"FMR row needs 0-4 bedroom values, got {len(rents)}")
        object.__setattr__(self, "rents", rents)
        for name in ("payment_standard_90", "payment_standard_110"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(D(v) for v in value))

    def rent(self, bedrooms: int) -> Decimal:
        """FMR for ``bedrooms`` (0-4). Larger units are not in HUD's file; raises ``LimitUnavailable``."""
        if not 0 <= bedrooms <= 4:
            raise LimitUnavailable(f"FMR files publish 0-4 bedrooms; {bedrooms} requested")
        return self.rents[bedrooms]

    def basic_range(self, bedrooms: int) -> tuple[Decimal, Decimal]:
        """The basic-range payment standard, 90 % to 110 % of FMR (24 CFR 982.503, §2.2).

        Published SAFMR 90 %/110 % columns are used when present; otherwise the exact products.
        """
        fmr = self.rent(bedrooms)
        low = self.payment_standard_90[bedrooms] if self.payment_standard_90 else fmr * Decimal("0.9")
        high = self.payment_standard_110[bedrooms] if self.payment_standard_110 else fmr * Decimal("1.1")
        return low, high


@dataclass(frozen=True, eq=False)
class HomeRentTable:
    """HUD's published Low and High HOME rents for one area and year, efficiency to 6 bedrooms (§3)."""

    area: str
    fiscal_year: int
    low: tuple[Decimal, ...]
    high: tuple[Decimal, ...]
    effective_date: date | None = None
    released_date: date | None = None
    area_name: str = ""

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            values = tuple(D(v) for v in getattr(self, name))
            if not 1 <= len(values) <= 7:
                raise ValueError(f"HOME {name} rents need efficiency..6BR values, got {len(values)}")
            object.__setattr__(self, name, values)

    def low_rent(self, bedrooms: int) -> Decimal:
        return self._pick(self.low, bedrooms, "Low")

    def high_rent(self, bedrooms: int) -> Decimal:
        return self._pick(self.high, bedrooms, "High")

    def _pick(self, values: tuple[Decimal, ...], bedrooms: int, what: str) -> Decimal:
        if not 0 <= bedrooms < len(values):
            raise LimitUnavailable(f"{what} HOME rent for {bedrooms} BR not published for {self.area}")
        return values[bedrooms]


ReferenceTable = Union[IncomeLimitTable, FairMarketRents, HomeRentTable]

# --------------------------------------------------------------------------------------------------
# Applicable-limit resolution (45-day rule, hold harmless, HERA, rural floor, gross rent floor)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LimitContext:
    """What about a building decides which MTSP limits apply to it (§1.2, §1.3, §1.7).

    - ``area``: HUD area code (``hud_area_code``) or 10-digit FIPS of the project.
    - ``placed_in_service``: starts hold harmless (years before it never applied to the project) and
      decides HERA Special eligibility (on or before 2008-12-31). Unknown → no hold-harmless credit.
    - ``rural``: project in a rural area (Housing Act of 1949 §520) → national non-metro floor …
    - ``bond_financed``: … except for buildings financed by tax-exempt bonds (§42(i)(8)).
    - ``gross_rent_floor_date``: the date whose limits floor the building's rents (Rev. Proc. 94-57);
      see :func:`gross_rent_floor_date`.
    """

    area: str
    placed_in_service: date | None = None
    rural: bool = False
    bond_financed: bool = False
    gross_rent_floor_date: date | None = None

    @property
    def hera_eligible(self) -> bool:
        return self.placed_in_service is not None and self.placed_in_service <= HERA_PLACED_IN_SERVICE_CUTOFF

    @property
    def rural_floor(self) -> bool:
        return self.rural and not self.bond_financed


def gross_rent_floor_date(
    allocation_date: date | None, placed_in_service: date | None, election: str = "allocation"
) -> date | None:
    """The date that fixes a building's gross rent floor (Rev. Proc. 94-57, §1.3).

    By default the **allocation date** (carryover date; for bond deals the reservation/determination date,
    passed here as ``allocation_date``); the **placed-in-service date** if the owner elected it
    (``election="placed-in-service"``). Without the elected date there is no floor (conservative).
    """
    if election in ("placed-in-service", "pis"):
        return placed_in_service
    if election != "allocation":
        raise ValueError(f"gross rent floor election must be 'allocation' or 'placed-in-service', got {election!r}")
    return allocation_date


class LimitsProvider(Protocol):
    """What the portfolio evaluation needs from reference data (implemented by :class:`LimitsLibrary`)."""

    def lihtc_income_limits(self, ctx: LimitContext, as_of: date) -> IncomeLimitTable | None: ...

    def lihtc_rent_limits(self, ctx: LimitContext, as_of: date) -> IncomeLimitTable | None: ...

    def section8_income_limits(self, area: str, as_of: date) -> IncomeLimitTable | None: ...

    def fair_market_rents(
        self, area: str, as_of: date, zip_code: str | None = None, small_area: bool = False
    ) -> FairMarketRents | None: ...

    def home_rents(self, area: str, as_of: date) -> HomeRentTable | None: ...


class _Versions:
    """The versions of one (kind, area) ordered by effective date, with bisect lookups."""

    __slots__ = ("tables", "dates")

    def __init__(self) -> None:
        self.tables: list = []
        self.dates: list[date] = []

    def add(self, table) -> None:
        eff = table.effective_date or date(table.fiscal_year - 1, 10, 1)
        for i, existing in enumerate(self.tables):
            if existing.fiscal_year == table.fiscal_year:
                del self.tables[i]
                del self.dates[i]
                break
        i = bisect.bisect_right(self.dates, eff)
        self.dates.insert(i, eff)
        self.tables.insert(i, table)

    def index_at(self, as_of: date) -> int:
        """Index of the version in effect on ``as_of`` (latest effective date ≤ as_of), or -1."""
        return bisect.bisect_right(self.dates, as_of) - 1


class LimitsLibrary:
    """An in-memory, versioned set of HUD tables with the applicable-limit rules (§1.2, §1.7).

    Resolution results are cached per (building context, versions in play), so evaluating a portfolio does
    the composition once per building rather than once per unit.
    """

    def __init__(self, tables: Iterable[ReferenceTable] = (), *, backfill_earliest: bool = False) -> None:
        """``backfill_earliest``: for dates before the earliest loaded table, use that earliest table and
        say so in its provenance. **Demo/sandbox only** — a later year's limits are not the limits that
        applied then (off by default: such dates have no limits and evaluations report a data issue)."""
        self._versions: dict[tuple[str, str], _Versions] = {}
        self._cache: dict = {}
        self.backfill_earliest = backfill_earliest
        for table in tables:
            self.add(table)

    def add(self, table: ReferenceTable) -> None:
        """Add (or replace, same kind/area/fiscal year) one table; indexes it by area code and FIPS."""
        self._cache.clear()
        kind = _kind_of(table)
        keys = {table.area}
        fips = getattr(table, "fips", None)
        if fips:
            keys.add(fips)
        hud_area = getattr(table, "hud_area_code", None)
        if hud_area and kind != "safmr":
            keys.add(hud_area)
        for key in keys:
            versions = self._versions.setdefault((kind, key), _Versions())
            existing = next((t for t in versions.tables if t.fiscal_year == table.fiscal_year), None)
            if (
                existing is not None
                and key != fips
                and getattr(existing, "fips", None) != fips
                and isinstance(table, IncomeLimitTable)
                and not _same_limits(existing, table)
            ):
                # Several counties of one HUD area publish different limits (county-level hold harmless,
                # HERA flags): the area-code lookup keeps the per-size minimum, which never overstates a
                # limit; a property keyed by its 10-digit FIPS gets its county's exact row.
                versions.add(_conservative_min(existing, table, key))
                continue
            versions.add(table)

    def tables(self, kind: str | None = None) -> list[ReferenceTable]:
        seen: dict[int, ReferenceTable] = {}
        for (k, _), versions in self._versions.items():
            if kind is None or k == kind:
                for t in versions.tables:
                    seen[id(t)] = t
        return list(seen.values())

    # -- raw lookups ----------------------------------------------------------------------------------
    def table_in_effect(self, kind: str, area: str, as_of: date):
        """The ``kind`` table for ``area`` whose effective date is the latest on or before ``as_of``."""
        versions = self._versions.get((kind, area))
        if versions is None:
            return None
        i = versions.index_at(as_of)
        if i < 0 and self.backfill_earliest and versions.tables:
            i = 0
        return versions.tables[i] if i >= 0 else None

    def _mtsp_version(self, area: str, index: int) -> IncomeLimitTable:
        """MTSP table version ``index`` merged with the income-averaging rows of the same fiscal year."""
        key = ("mtsp-merged", area, index)
        cached = self._cache.get(key)
        if cached is None:
            table = self._versions[("mtsp", area)].tables[index]
            ia = self._versions.get(("mtsp-ia", area))
            if ia is not None:
                for ia_table in ia.tables:
                    if ia_table.fiscal_year == table.fiscal_year:
                        table = table.with_rows(ia_table.rows, f"mtsp-ia FY{ia_table.fiscal_year}")
            cached = self._cache[key] = table
        return cached

    # -- LIHTC / bond (MTSP) ----------------------------------------------------------------------------
    def lihtc_income_limits(self, ctx: LimitContext, as_of: date) -> IncomeLimitTable | None:
        """The MTSP income limits that apply to a building on ``as_of`` (§1.2, §1.7).

        ``applicable_IL(size) = max(`` the MTSP table in effect,
        the prior table while inside the 45-day window (Rev. Rul. 94-57: the owner may use either),
        every earlier table in effect since the project was placed in service (MTSP hold harmless),
        the HERA Special table for HERA-eligible projects in "Special" areas,
        the national non-metro table for rural projects not financed by tax-exempt bonds ``)``.

        Uses the income-averaging file's rows for the same fiscal year when loaded. Returns ``None`` when
        no MTSP table for the area is in effect on ``as_of``.
        """
        versions = self._mtsp_versions(ctx.area)
        if versions is None:
            return None
        current = versions.index_at(as_of)
        backfilled = False
        if current < 0:
            if not (self.backfill_earliest and versions.tables):
                return None
            current, backfilled = 0, True
        in_window = False
        mandatory = versions.tables[current].mandatory_date
        if current > 0 and mandatory is not None and as_of < mandatory:
            in_window = True
        first = current - 1 if in_window else current
        if ctx.placed_in_service is not None:
            pis_index = max(versions.index_at(ctx.placed_in_service), 0)
            first = min(first, pis_index)
        # the result depends on which versions are combined, not on the exact dates
        key = ("lihtc", ctx.area, ctx.hera_eligible, ctx.rural_floor, first, current, backfilled)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        parts = [self._composed(ctx, i, versions) for i in range(first, current + 1)]
        result = combine_max(parts)
        if backfilled:
            result = _copy(result, provenance=result.provenance + ("backfilled: earliest table used for an earlier date",))
        self._cache[key] = result
        return result

    def lihtc_rent_limits(self, ctx: LimitContext, as_of: date) -> IncomeLimitTable | None:
        """Income limits used for a building's maximum rents: :meth:`lihtc_income_limits` floored at the
        limits in effect on the gross-rent-floor date (§1.3 rent floors, §1.7)."""
        current = self.lihtc_income_limits(ctx, as_of)
        if current is None or ctx.gross_rent_floor_date is None:
            return current
        versions = self._mtsp_versions(ctx.area)
        floor_index = versions.index_at(ctx.gross_rent_floor_date) if versions else -1
        if floor_index < 0 and self.backfill_earliest and versions is not None and versions.tables:
            floor_index = 0
        if floor_index < 0:
            return current
        key = ("rent", id(current), ctx, floor_index)
        cached = self._cache.get(key)
        if cached is None:
            floor_table = self._composed(ctx, floor_index, versions)
            cached = combine_max([current, _copy(floor_table, provenance=tuple(
                f"gross-rent floor {p}" for p in floor_table.provenance))])
            self._cache[key] = cached
        return cached

    def _mtsp_versions(self, area: str) -> _Versions | None:
        versions = self._versions.get(("mtsp", area))
        if versions is None:
            # an income-averaging file alone also carries the 50 % and 60 % rows
            versions = self._versions.get(("mtsp-ia", area))
        return versions

    def _composed(self, ctx: LimitContext, index: int, versions: _Versions) -> IncomeLimitTable:
        """One fiscal year's table for the building: area (+ IA rows) ⊕ HERA Special ⊕ rural floor."""
        key = ("composed", ctx.area, index, ctx.hera_eligible, ctx.rural_floor)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if ("mtsp", ctx.area) in self._versions:
            base = self._mtsp_version(ctx.area, index)
        else:
            base = versions.tables[index]
        parts = [base]
        if ctx.hera_eligible and base.hera_special and base.hera is not None:
            parts.append(base.hera)
        if ctx.rural_floor:
            nonmetro = self._nonmetro_for(base.fiscal_year)
            if nonmetro is not None:
                parts.append(nonmetro)
        cached = combine_max(parts) if len(parts) > 1 else base
        self._cache[key] = cached
        return cached

    def _nonmetro_for(self, fiscal_year: int) -> IncomeLimitTable | None:
        versions = self._versions.get(("nonmetro", NATIONAL_NONMETRO_AREA))
        if versions is None:
            return None
        for table in versions.tables:
            if table.fiscal_year == fiscal_year:
                return table
        return None

    # -- HUD programs -------------------------------------------------------------------------------------
    def section8_income_limits(self, area: str, as_of: date) -> IncomeLimitTable | None:
        """Section 8 income limits in effect on ``as_of`` (HUD's effective date; no hold harmless, no 45-day
        window — those are LIHTC/MTSP rules). Also serve as HOME income limits (see :mod:`home`)."""
        return self.table_in_effect("section8", area, as_of)

    def fair_market_rents(
        self, area: str, as_of: date, zip_code: str | None = None, small_area: bool = False
    ) -> FairMarketRents | None:
        """FMRs in effect on ``as_of``; the ZIP's Small Area FMR when ``small_area`` (SAFMR metros, §2.2)."""
        if small_area and zip_code:
            table = self.table_in_effect("safmr", zip_code, as_of)
            if table is not None:
                return table
        return self.table_in_effect("fmr", area, as_of)

    def home_rents(self, area: str, as_of: date) -> HomeRentTable | None:
        """HOME rent limits in effect on ``as_of`` (§3)."""
        return self.table_in_effect("home-rents", area, as_of)

    def home_rents_at(self, area: str, on: date | None) -> HomeRentTable | None:
        """HOME rents in effect at project commitment (HOME rent hold harmless, §3)."""
        return self.table_in_effect("home-rents", area, on) if on else None


def _same_limits(a: IncomeLimitTable, b: IncomeLimitTable) -> bool:
    return (
        a.vli_50 == b.vli_50
        and dict(a.rows) == dict(b.rows)
        and a.hera_special == b.hera_special
        and ((a.hera is None and b.hera is None) or (a.hera is not None and b.hera is not None and _same_limits(a.hera, b.hera)))
    )


def _conservative_min(a: IncomeLimitTable, b: IncomeLimitTable, area: str) -> IncomeLimitTable:
    """Per-size minimum of two county rows of one HUD area (used only for area-code lookups)."""
    vli = tuple(min(x, y) for x, y in zip(a.vli_50, b.vli_50))
    rows = {}
    for pct in set(a.rows) & set(b.rows):
        rows[pct] = tuple(min(x, y) for x, y in zip(a.rows[pct], b.rows[pct]))
    hera = None
    if a.hera_special and b.hera_special and a.hera is not None and b.hera is not None:
        hera = _conservative_min(a.hera, b.hera, area)
    return _copy(
        a, area=area, fips=None, vli_50=vli, rows=rows, hera=hera, hera_special=hera is not None,
        provenance=(f"{a.kind} FY{a.fiscal_year} (minimum over the area's counties)",),
    )


def _kind_of(table: ReferenceTable) -> str:
    if isinstance(table, IncomeLimitTable):
        return table.kind
    if isinstance(table, FairMarketRents):
        return table.kind
    if isinstance(table, HomeRentTable):
        return "home-rents"
    raise TypeError(f"not a reference table: {type(table).__name__}")
