"""Benchmark: compliance evaluation over a synthetic portfolio (default 100,000 units and households).

Prints one JSON object. ``compute_seconds`` is the CPU time (``time.process_time``) of
``evaluate_portfolio`` alone — robust to other jobs sharing the machine; ``compute_wall_seconds`` is its
wall time. Building the inputs and turning results into row dicts are reported separately. The limit tables are synthetic (HUD's size derivation applied to made-up 4-person
figures for 12 areas × FY2018-FY2026, with Section 8 limits, FMRs and HOME rents), so hold harmless, the
45-day window, layered HOME units, vouchers and per-date lookups are all exercised.

    python bench/compliance.py [--units 100000] [--seed 7]
    python bench/compliance.py --store sqlite:////tmp/bench-compliance.sqlite   # also time storing the result

``--store URL`` also writes the evaluation to the warehouse's `compliance` schema (snapshots with household
amounts encrypted, the findings ledger) twice — the first write and a same-date replacement — and reports
their wall times, then deletes what it wrote.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rm_pipelines.compliance.limits import (  # noqa: E402
    FairMarketRents,
    HomeRentTable,
    IncomeLimitTable,
    LimitsLibrary,
    derive_household_sizes,
)
from rm_pipelines.compliance.model import (  # noqa: E402
    Asset,
    Building,
    Certification,
    ComplianceSettings,
    Household,
    IncomeSource,
    Member,
    ProgramElection,
    Property,
    RentFacts,
    Unit,
    UnitProgram,
)
from rm_pipelines.compliance.portfolio import evaluate_portfolio  # noqa: E402

AS_OF = date(2026, 9, 15)
MONTH = date(2026, 9, 1)
AREAS = [f"BENCH-AREA-{i:02d}" for i in range(12)]
UNITS_PER_PROPERTY = 100
UNITS_PER_BUILDING = 10


def library(rng: random.Random) -> LimitsLibrary:
    tables = []
    for area in AREAS:
        four = rng.randrange(1200, 2000) * 50
        for fy in range(2018, 2027):
            four = four + rng.randrange(-10, 60) * 50
            effective = date(fy, 4, 1) if fy != 2026 else date(2026, 5, 1)
            vli = derive_household_sizes(four)
            tables.append(IncomeLimitTable(area=area, fiscal_year=fy, vli_50=vli, effective_date=effective,
                                           released_date=effective))
            tables.append(IncomeLimitTable(area=area, fiscal_year=fy, vli_50=vli, kind="section8",
                                           derive_percentages=False, rows={80: [v * 8 // 5 for v in vli]},
                                           effective_date=effective))
            fmr = [Decimal(four // 60 + 150 * b) for b in range(5)]
            tables.append(FairMarketRents(area=area, fiscal_year=fy, rents=fmr, effective_date=date(fy - 1, 10, 1)))
            tables.append(HomeRentTable(area=area, fiscal_year=fy, low=[f - 100 for f in fmr], high=fmr,
                                        effective_date=date(fy, 6, 1)))
    return LimitsLibrary(tables)


def build(n_units: int, seed: int):
    rng = random.Random(seed)
    lib = library(rng)
    properties, units, households, rents = [], [], [], []
    n_props = max(1, n_units // UNITS_PER_PROPERTY)
    cert_counter = 0
    for p in range(n_props):
        pid = f"P{p:05d}"
        kind = rng.random()
        if kind < 0.70:
            elections = (ProgramElection("lihtc", set_aside="40-60"),)
        elif kind < 0.80:
            elections = (ProgramElection("lihtc", set_aside="20-50"),)
        elif kind < 0.90:
            elections = (ProgramElection("lihtc", set_aside="income-averaging"),)
        elif kind < 0.95:
            elections = (ProgramElection("lihtc", set_aside="40-60"), ProgramElection("bond", set_aside="40-60"))
        else:
            elections = (ProgramElection("lihtc", set_aside="40-60"), ProgramElection("home"))
        set_aside = elections[0].set_aside
        pis = date(rng.randrange(2015, 2025), rng.randrange(1, 13), 1)
        buildings = tuple(Building(f"{pid}-B{b}", pid, bin=f"XX-{p:05d}-{b}", placed_in_service=pis,
                                   allocation_date=pis - timedelta(days=400))
                          for b in range(UNITS_PER_PROPERTY // UNITS_PER_BUILDING))
        properties.append(Property("bench-org", pid, f"Property {p}", rng.choice(AREAS), elections, buildings,
                                   placed_in_service=pis))
        for i in range(UNITS_PER_PROPERTY):
            uid = f"{pid}-U{i:03d}"
            bedrooms = rng.choice((0, 1, 1, 2, 2, 3))
            layers = []
            if rng.random() < 0.85:
                if set_aside == "income-averaging":
                    layers.append(UnitProgram("lihtc", income_pct=rng.choice((30, 40, 50, 60, 60, 70, 80))))
                else:
                    layers.append(UnitProgram("lihtc", income_pct=50 if set_aside == "20-50" else 60))
                if len(elections) > 1 and elections[1].program == "home" and rng.random() < 0.5:
                    layers.append(UnitProgram("home", home_rent=rng.choice(("high", "low"))))
                if len(elections) > 1 and elections[1].program == "bond":
                    layers.append(UnitProgram("bond"))
            unit = Unit(uid, pid, buildings[i // UNITS_PER_BUILDING].building_id, bedrooms,
                        Decimal(450 + 250 * bedrooms), tuple(layers), Decimal(rng.choice((0, 60, 80, 100, 120))),
                        unit_number=str(i))
            units.append(unit)
            move_in = date(rng.randrange(2019, 2027), rng.randrange(1, 13), 1)
            if move_in > AS_OF:
                move_in = date(2026, 5, 1)
            size = rng.choice((1, 1, 2, 2, 3, 4))
            base_income = rng.randrange(15000, 80000)
            certs = []
            d = move_in
            kind_ = "move-in"
            while layers and d <= AS_OF:  # market tenants have no income certifications
                cert_counter += 1
                growth = Decimal(100 + rng.randrange(0, 8)) / 100
                base_income = int(base_income * growth) if kind_ != "move-in" else base_income
                members = [Member(f"{uid}-m0", "H", date(1980, 1, 1),
                                  incomes=(IncomeSource("wages", Decimal(base_income // 12), "monthly"),),
                                  assets=(Asset("savings", Decimal(rng.randrange(0, 9000)), Decimal(3)),))]
                for k in range(1, size):
                    members.append(Member(f"{uid}-m{k}", "C" if k > 1 else "S",
                                          date(2016, 1, 1) if k > 1 else date(1982, 1, 1),
                                          full_time_student=k > 1 and rng.random() < 0.1))
                certs.append(Certification(f"C{cert_counter}", kind_, d, tuple(members), signed_date=d))
                kind_ = "annual"
                d = d.replace(year=d.year + 1)
                if rng.random() < 0.03:  # a late recertification
                    break
            households.append(Household(f"H-{uid}", uid, pid, move_in, None, tuple(certs),
                                        "section8" if rng.random() < 0.05 else None))
            if layers:
                rents.append(RentFacts(uid, MONTH, Decimal(rng.randrange(600, 1900)), Decimal(rng.choice((0, 0, 15))),
                                       Decimal(0), contract_rent=Decimal(1500)))
    return lib, properties, units, households, rents


def _loadavg() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def store_result(url: str, result) -> dict:
    import os

    os.environ.setdefault("ESTATECORE_ENCRYPTION_KEYS", "ef-2L2MdqMF7KEpuvXl-wpFWb_cisRX6xnMrxpgQi8k=")
    from rm_pipelines.warehouse import compliance_store
    from rm_pipelines.warehouse.db import create_warehouse_engine, redact_url
    from rm_pipelines.warehouse.raw import ensure_schema

    engine = create_warehouse_engine(url)
    ensure_schema(engine)
    org_id = f"bench-{int(time.time())}"
    result = _with_org(result, org_id)
    times = []
    for attempt in ("first", "replace"):
        t = time.perf_counter()
        written = compliance_store.write_evaluation(engine, org_id, result, run_id=f"bench-{attempt}")
        times.append(round(time.perf_counter() - t, 2))
    with engine.begin() as conn:  # leave the warehouse as it was
        for table in [*compliance_store.SNAPSHOTS.values(), compliance_store.violations, compliance_store.evaluations]:
            conn.execute(table.delete().where(table.c.org_id == org_id))
    engine.dispose()
    return {"url": redact_url(url), "rows": sum(written.rows.values()), "first_write_seconds": times[0],
            "replace_seconds": times[1]}


def _with_org(result, org_id: str):
    from dataclasses import replace

    findings = [replace(f, org_id=org_id) for f in result.findings]
    return replace(result, findings=findings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", metavar="URL", help="also store the result in this warehouse (SQLite or PostgreSQL URL)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    lib, properties, units, households, rents = build(args.units, args.seed)
    t1 = time.perf_counter()
    load_before = _loadavg()
    c1 = time.process_time()
    result = evaluate_portfolio(properties, units, households, AS_OF, lib, ComplianceSettings(), rent_facts=rents)
    c2 = time.process_time()
    t2 = time.perf_counter()
    rows = {name: len(r) for name, r in result.tables().items()}
    t3 = time.perf_counter()
    compute = c2 - c1
    stored = store_result(args.store, result) if args.store else None
    print(json.dumps({
        "benchmark": "compliance.evaluate_portfolio",
        "units": len(units),
        "households": len(households),
        "certifications": sum(len(h.certifications) for h in households),
        "properties": len(properties),
        "compute_seconds": round(compute, 3),
        "compute_wall_seconds": round(t2 - t1, 3),
        "units_per_second": round(len(units) / compute),
        "build_inputs_seconds": round(t1 - t0, 3),
        "as_rows_seconds": round(t3 - t2, 3),
        "target_seconds": 10,
        "within_target": compute < 10,
        "load_average_before": load_before,
        "rows": rows,
        "findings_by_code": dict(Counter(f.code for f in result.findings).most_common()),
        "store": stored,
        "python": platform.python_version(),
    }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
