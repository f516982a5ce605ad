"""Reference data: derivation, lookups, resolution rules, HUD file loaders, store and CLI (§1.2, §1.3, §1.7, §15)."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from rm_pipelines.cli import limits as cli
from rm_pipelines.compliance import hud_files, limits_store
from rm_pipelines.compliance.hud_files import load_mtsp
from rm_pipelines.compliance.limits import (
    NATIONAL_NONMETRO_AREA,
    IncomeLimitTable,
    LimitContext,
    LimitsLibrary,
    LimitUnavailable,
    derive_household_sizes,
    gross_rent_floor_date,
)
from rm_pipelines.compliance.limits_store import bundled_library, stored_library

from .factories import BOSTON, synthetic_table

# -- §15 published rows reproduce from the 4-person figure (ceil to the next $50) ----------------------


@pytest.mark.parametrize(
    "four, row",
    [
        (85700, (60000, 68600, 77150, 85700, 92600, 99450, 106300, 113150)),  # Boston MTSP
        (48250, (33800, 38600, 43450, 48250, 52150, 56000, 59850, 63700)),  # Wichita
        (49400, (34600, 39550, 44500, 49400, 53400, 57350, 61300, 65250)),  # Topeka
        (56700, (39700, 45400, 51050, 56700, 61250, 65800, 70350, 74850)),  # Kansas City
    ],
)
def test_derive_household_sizes_matches_hud(four, row):
    assert derive_household_sizes(four) == row


def test_derive_rounds_up_not_nearest():
    # 85,700 × 0.70 = 59,990 → 60,000 (nearest would also give 60,000), × 1.32 = 113,124 → 113,150 (nearest: 113,100)
    assert derive_household_sizes(85700)[7] == 113150
    assert derive_household_sizes(42350) == (29650, 33900, 38150, 42350, 45750, 49150, 52550, 55950)


BOSTON_TABLE = IncomeLimitTable(area=BOSTON, fiscal_year=2026, vli_50=[60000, 68600, 77150, 85700, 92600, 99450, 106300, 113150])


def test_percentages_are_n_over_50_of_the_50_row():
    t = BOSTON_TABLE
    assert t.limit(60, 4) == Decimal(102840)  # 1.2 × 85,700, a whole dollar
    assert t.limit(80, 4) == Decimal(137120)  # 1.6 × VLI: the LIHTC 80 %, not HUD's "low income"
    assert t.limit(30, 1) == Decimal(36000)
    assert t.limit(20, 2) == Decimal(27440)
    assert t.limit(50, 8) == Decimal(113150)


def test_fractional_sizes_average_neighbours():
    t = BOSTON_TABLE
    assert t.limit(60, Decimal("1.5")) == Decimal(77160)  # (72,000 + 82,320) / 2
    assert t.limit(60, 4.5) == Decimal(106980)
    assert t.limit(50, "7.5") == Decimal(109725)
    with pytest.raises(ValueError):
        t.limit(60, Decimal("1.25"))


def test_sizes_above_eight_add_eight_percent_of_four_person():
    assert BOSTON_TABLE.limit(50, 9) == Decimal(85700) * Decimal("1.40")
    assert BOSTON_TABLE.limit(50, 10) == Decimal(85700) * Decimal("1.48")


def test_section8_tables_do_not_derive_other_percentages():
    t = IncomeLimitTable(area="X", fiscal_year=2026, vli_50=derive_household_sizes(48250), kind="section8",
                         derive_percentages=False)
    assert t.limit(50, 4) == Decimal(48250)
    with pytest.raises(LimitUnavailable):
        t.limit(80, 4)


def test_bad_inputs_rejected():
    with pytest.raises(ValueError):
        IncomeLimitTable(area="X", fiscal_year=2026, vli_50=[1, 2, 3])
    with pytest.raises(TypeError):
        BOSTON_TABLE.limit(60.0, 2)
    with pytest.raises(ValueError):
        BOSTON_TABLE.limit(60, 0)


# -- resolution: 45-day rule, hold harmless, HERA, rural floor, gross rent floor -----------------------

AREA = "TEST-AREA"
FY25 = synthetic_table(AREA, 2025, 80000, date(2025, 4, 1))
FY26 = synthetic_table(AREA, 2026, 78000, date(2026, 5, 1))  # a decline: hold harmless must keep FY2025
FY26_UP = synthetic_table(AREA, 2026, 84000, date(2026, 5, 1), released=date(2026, 4, 20))


def test_45_day_rule_owner_may_use_prior_limits_until_mandatory_date():
    lib = LimitsLibrary([FY25, FY26_UP])
    assert FY26_UP.mandatory_date == date(2026, 6, 4)  # released 2026-04-20 + 45 days (after effective date)
    ctx = LimitContext(AREA)  # placed-in-service unknown: no hold-harmless credit
    in_window = lib.lihtc_income_limits(ctx, date(2026, 5, 10))
    assert "mtsp FY2025" in in_window.provenance and "mtsp FY2026" in in_window.provenance
    after = lib.lihtc_income_limits(ctx, date(2026, 6, 4))
    assert after.provenance == ("mtsp FY2026",)
    before = lib.lihtc_income_limits(ctx, date(2026, 4, 30))
    assert before.provenance == ("mtsp FY2025",)


def test_mandatory_date_is_effective_date_when_released_earlier():
    t = synthetic_table(AREA, 2026, 80000, date(2026, 5, 1), released=date(2026, 1, 1))
    assert t.mandatory_date == date(2026, 5, 1)
    assert synthetic_table(AREA, 2026, 80000, date(2026, 5, 1)).mandatory_date == date(2026, 6, 15)


def test_hold_harmless_keeps_highest_limits_since_placed_in_service():
    lib = LimitsLibrary([FY25, FY26])
    in_service = LimitContext(AREA, placed_in_service=date(2024, 1, 1))
    t = lib.lihtc_income_limits(in_service, date(2026, 9, 1))
    assert t.limit(50, 4) == Decimal(80000)  # FY2025's higher limit held
    new_project = LimitContext(AREA, placed_in_service=date(2026, 7, 1))
    assert lib.lihtc_income_limits(new_project, date(2026, 9, 1)).limit(50, 4) == Decimal(78000)


def test_hera_special_only_for_projects_in_service_by_2008():
    hera = synthetic_table(AREA, 2026, 90000, date(2026, 5, 1), kind="mtsp-hera")
    base = synthetic_table(AREA, 2026, 78000, date(2026, 5, 1), hera_special=True, hera=hera)
    lib = LimitsLibrary([base])
    assert lib.lihtc_income_limits(LimitContext(AREA, placed_in_service=date(2008, 12, 31)), date(2026, 9, 1)).limit(50, 4) == 90000
    assert lib.lihtc_income_limits(LimitContext(AREA, placed_in_service=date(2009, 1, 1)), date(2026, 9, 1)).limit(50, 4) == 78000
    assert lib.lihtc_income_limits(LimitContext(AREA), date(2026, 9, 1)).limit(50, 4) == 78000


def test_rural_floor_national_nonmetro_not_for_bond_buildings():
    low = synthetic_table(AREA, 2026, 40000, date(2026, 5, 1))
    nonmetro = synthetic_table(NATIONAL_NONMETRO_AREA, 2026, 42350, date(2026, 5, 1), kind="nonmetro")
    lib = LimitsLibrary([low, nonmetro])
    rural = lib.lihtc_income_limits(LimitContext(AREA, rural=True), date(2026, 9, 1))
    assert rural.limit(50, 4) == 42350 and rural.limit(60, 4) == Decimal(50820)  # 60 % = 1.2 × 50 %
    bond = lib.lihtc_income_limits(LimitContext(AREA, rural=True, bond_financed=True), date(2026, 9, 1))
    assert bond.limit(50, 4) == 40000


def test_gross_rent_floor_applies_to_rents_not_income():
    lib = LimitsLibrary([FY25, FY26])
    ctx = LimitContext(AREA, placed_in_service=date(2026, 7, 1),
                       gross_rent_floor_date=gross_rent_floor_date(date(2025, 6, 1), date(2026, 7, 1)))
    assert lib.lihtc_income_limits(ctx, date(2026, 9, 1)).limit(60, 3) == Decimal(78000) * Decimal("0.9") * Decimal("1.2")
    rent_table = lib.lihtc_rent_limits(ctx, date(2026, 9, 1))
    assert rent_table.limit(50, 4) == 80000  # floored at the allocation-date (FY2025) limits
    pis_election = gross_rent_floor_date(date(2025, 6, 1), date(2026, 7, 1), "placed-in-service")
    assert pis_election == date(2026, 7, 1)
    assert lib.lihtc_rent_limits(LimitContext(AREA, placed_in_service=date(2026, 7, 1), gross_rent_floor_date=pis_election),
                                 date(2026, 9, 1)).limit(50, 4) == 78000


def test_no_table_before_first_effective_date_unless_backfilled():
    assert LimitsLibrary([FY26]).lihtc_income_limits(LimitContext(AREA), date(2026, 1, 1)) is None
    backfilled = LimitsLibrary([FY26], backfill_earliest=True).lihtc_income_limits(LimitContext(AREA), date(2026, 1, 1))
    assert backfilled.limit(50, 4) == 78000 and any("backfilled" in p for p in backfilled.provenance)


def test_bundled_tables_load_offline():
    lib = bundled_library()
    t = lib.lihtc_income_limits(LimitContext(BOSTON), date(2026, 7, 1))
    assert t.vli_50 == tuple(Decimal(v) for v in (60000, 68600, 77150, 85700, 92600, 99450, 106300, 113150))
    assert t.limit(60, 3) == 92580 and t.median_income == 164600
    assert lib.section8_income_limits("METRO48620M48620", date(2026, 6, 1)).limit(50, 4) == 48250
    assert lib.section8_income_limits("2017799999", date(2026, 6, 1)).limit(50, 1) == 34600  # by FIPS
    assert lib.section8_income_limits("METRO28140MM3760", date(2026, 6, 1)).limit(50, 8) == 74850
    topeka = lib.fair_market_rents("METRO45820M45820", date(2026, 1, 1))
    assert topeka.rents == tuple(Decimal(v) for v in (792, 820, 1057, 1392, 1411))
    wichita = lib.fair_market_rents("METRO48620M48620", date(2026, 1, 1), zip_code="67202", small_area=True)
    assert wichita.rent(2) == 1180 and wichita.basic_range(2) == (Decimal(1062), Decimal(1298))
    nonmetro = lib.table_in_effect("nonmetro", NATIONAL_NONMETRO_AREA, date(2026, 6, 1))
    assert nonmetro.limit(50, 4) == 42350


# -- HUD file loaders ---------------------------------------------------------------------------------------


def _write_csv(path: Path, header, rows):
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _mtsp_header(yy="26"):
    return (["fips", "hud_area_code", "HUD_Area_Name", f"median20{yy}"]
            + [f"lim50_{yy}p{n}" for n in range(1, 9)] + [f"lim60_{yy}p{n}" for n in range(1, 9)]
            + [f"HERA_Lim_type{yy}"] + [f"lim50_HERA_{yy}p{n}" for n in range(1, 9)]
            + [f"lim60_HERA_{yy}p{n}" for n in range(1, 9)])


def test_mtsp_csv_with_hera_special(tmp_path):
    vli = list(derive_household_sizes(70000))
    hera = list(derive_household_sizes(75000))
    rows = [["0100199999", "AREA-1", "Area One", 140000, *vli, *[v * 6 // 5 for v in vli], "Special", *hera, *[v * 6 // 5 for v in hera]],
            ["0100399999", "AREA-2", "Area Two", 140000, *vli, *[v * 6 // 5 for v in vli], "Regular", *[""] * 16]]
    path = _write_csv(tmp_path / "MTSP-Data-FY26.csv", _mtsp_header(), rows)
    tables = load_mtsp(path, 2026, date(2026, 5, 1))
    assert [t.area for t in tables] == ["AREA-1", "AREA-2"]
    assert tables[0].hera_special and tables[0].hera.limit(50, 4) == 75000
    assert not tables[1].hera_special and tables[1].fips == "0100399999"
    with pytest.raises(hud_files.HudFileError, match="FY26, not FY25"):
        load_mtsp(path, 2025, date(2025, 4, 1))


def test_mtsp_xlsx_with_title_rows(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["FY 2026 MTSP Income Limits"])
    ws.append([])
    ws.append(_mtsp_header())
    vli = list(derive_household_sizes(85700))
    ws.append(["2502507000", BOSTON, "Boston", 164600, *vli, *[v * 6 // 5 for v in vli], "Regular", *[None] * 16])
    path = tmp_path / "MTSP-Data-FY26.xlsx"
    wb.save(path)
    [table] = load_mtsp(path, 2026, date(2026, 5, 1))
    assert table.limit(60, 3) == 92580 and table.area == BOSTON


def test_income_averaging_file_rows_are_used(tmp_path):
    vli = list(derive_household_sizes(85700))
    header = ["hud_area_code"] + [f"lim{p}_IA_26p{n}" for p in (20, 30, 40) for n in range(1, 9)] \
        + [f"lim50_26p{n}" for n in range(1, 9)] + [f"lim60_26p{n}" for n in range(1, 9)] \
        + [f"lim{p}_IA_26p{n}" for p in (70, 80) for n in range(1, 9)]
    row = [BOSTON] + [v * p // 50 for p in (20, 30, 40) for v in vli] + vli + [v * 6 // 5 for v in vli] \
        + [v * p // 50 for p in (70, 80) for v in vli]
    path = _write_csv(tmp_path / "MTSP-IncAvg-Data-FY26.csv", header, [row])
    [ia] = hud_files.load_income_averaging(path, 2026, date(2026, 5, 1))
    assert sorted(ia.rows) == [20, 30, 40, 60, 70, 80] and ia.rows[80][3] == 137120
    lib = LimitsLibrary([*bundled_library().tables("mtsp"), ia])
    assert "mtsp-ia FY2026" in lib.lihtc_income_limits(LimitContext(BOSTON), date(2026, 7, 1)).provenance


def test_section8_fmr_safmr_home_loaders(tmp_path):
    s8 = _write_csv(tmp_path / "Section8-FY26.csv",
                    ["hud_area_code", "fips", "median2026"] + [f"l50_{n}" for n in range(1, 9)]
                    + [f"ELI_{n}" for n in range(1, 9)] + [f"l80_{n}" for n in range(1, 9)],
                    [["A", "2017399999", 96500, *derive_household_sizes(48250), *range(20000, 28000, 1000), *range(54000, 62000, 1000)]])
    [t] = hud_files.load_section8(s8, 2026, date(2026, 5, 1))
    assert t.limit(80, 4) == 57000 and t.limit(30, 1) == 20000 and t.kind == "section8"
    fmr = _write_csv(tmp_path / "FY26_FMRs.csv", ["hud_area_code", "fips", "fmr_0", "fmr_1", "fmr_2", "fmr_3", "fmr_4"],
                     [["A", "2017799999", 792, 820, 1057, 1392, 1411]])
    assert hud_files.load_fmr(fmr, 2026, date(2025, 10, 1))[0].rent(4) == 1411
    home = _write_csv(tmp_path / "HOME.csv", ["hud_area_code", "Program", "EFFICIENCY", "1 BEDROOM", "2 BEDROOM"],
                      [["A", "LOW HOME RENT LIMIT", 700, 750, 900], ["A", "HIGH HOME RENT LIMIT", 800, 850, 1100],
                       ["A", "For Information Only: FAIR MARKET RENT", 792, 820, 1057]])
    [h] = hud_files.load_home_rents(home, 2026, date(2026, 6, 1))
    assert h.low_rent(2) == 900 and h.high_rent(0) == 800
    bad = _write_csv(tmp_path / "bad.csv", ["foo"], [["1"]])
    with pytest.raises(hud_files.HudFileError):
        hud_files.load_fmr(bad, 2026, date(2025, 10, 1))


def test_area_code_with_differing_counties_uses_the_minimum(tmp_path):
    a = synthetic_table("AREA", 2026, 80000, date(2026, 5, 1), fips="0100199999")
    b = synthetic_table("AREA", 2026, 76000, date(2026, 5, 1), fips="0100399999")
    lib = LimitsLibrary([a, b])
    assert lib.lihtc_income_limits(LimitContext("AREA"), date(2026, 7, 1)).limit(50, 4) == 76000
    assert lib.lihtc_income_limits(LimitContext("0100199999"), date(2026, 7, 1)).limit(50, 4) == 80000


# -- versioned store and CLI ---------------------------------------------------------------------------------


def test_store_versions_and_cli(tmp_path, capsys):
    src = limits_store.DATA_DIR / "MTSP-Data-FY26-sample.csv"
    data_dir = tmp_path / "data"
    assert cli.main(["limits", "import", str(src), "--kind", "mtsp", "--fiscal-year", "2026", "--data-dir", str(data_dir)]) == 0
    assert "stored mtsp FY2026 v1" in capsys.readouterr().out
    assert cli.main(["limits", "import", str(src), "--kind", "mtsp", "--fiscal-year", "2026", "--data-dir", str(data_dir)]) == 0
    assert "unchanged" in capsys.readouterr().out
    assert cli.main(["limits", "import", str(src), "--kind", "mtsp", "--fiscal-year", "2026",
                     "--released-date", "2026-04-20", "--data-dir", str(data_dir)]) == 0
    assert "stored mtsp FY2026 v2" in capsys.readouterr().out
    stored = limits_store.list_imports(data_dir)
    assert [(s.version, s.latest) for s in stored] == [(1, False), (2, True)]
    assert (data_dir / "reference" / "limits" / "mtsp" / "FY2026" / "v0002.json").exists()
    assert cli.main(["limits", "list", "--json", "--data-dir", str(data_dir)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[-1]["latest"] and rows[-1]["released_date"] == "2026-04-20"
    lib = stored_library(data_dir, include_bundled=False)
    [table] = lib.tables("mtsp")
    assert table.released_date == date(2026, 4, 20) and table.limit(60, 3) == 92580
    # FMR needs an explicit effective date; a wrong layout is reported, not stored
    assert cli.main(["limits", "import", str(src), "--kind", "fmr", "--fiscal-year", "2026", "--data-dir", str(data_dir)]) == 2
    assert cli.main(["limits", "import", str(src), "--kind", "fmr", "--fiscal-year", "2026",
                     "--effective-date", "2025-10-01", "--data-dir", str(data_dir)]) == 1
    assert "missing column" in capsys.readouterr().err


def test_cli_register_on_parent_parser(tmp_path, monkeypatch):
    import argparse

    monkeypatch.setenv("RM_PIPELINES_DATA_DIR", str(tmp_path))
    parser = argparse.ArgumentParser(prog="rm-pipelines")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["limits", "import", str(limits_store.DATA_DIR / "Section8-FY26-sample.csv"),
                              "--kind", "section8", "--fiscal-year", "2026"])
    assert args.func(args) == 0
    assert limits_store.list_imports()[0].path.is_relative_to(tmp_path / "reference" / "limits")


def test_table_json_round_trip():
    for table in bundled_library().tables():
        again = limits_store.table_from_dict(json.loads(json.dumps(limits_store.table_to_dict(table))))
        assert limits_store.table_to_dict(again) == limits_store.table_to_dict(table)
