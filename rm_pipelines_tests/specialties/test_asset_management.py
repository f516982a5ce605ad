"""Asset-management metrics on a two-unit property whose every figure can be checked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rm_pipelines.specialties.asset_management import (
    Charge,
    Credit,
    PropertyInfo,
    Space,
    Tenancy,
    WorkOrder,
    lease_expirations,
    performance,
)

MARKET = ((date(2025, 1, 1), None, 1_000_00),)


def test_one_month_by_hand():
    props = [PropertyInfo("P", "Oak Flats", "multifamily", (("Owner A", Decimal(60)),), {2026: 12_000_00})]
    spaces = [Space("S1", "P", "U1", MARKET), Space("S2", "P", "U2", MARKET)]
    tenancies = [
        Tenancy("S1", "P", "R0", date(2024, 1, 1), date(2026, 2, 20), ((date(2024, 1, 1), None, 900_00),)),
        # new lease in March at 950 (the previous resident paid 900)
        Tenancy("S1", "P", "R1", date(2026, 3, 10), None, ((date(2026, 3, 10), None, 950_00),),
                term_ends=(date(2027, 3, 9),)),
        # renewal on Mar 1: 800 → 840
        Tenancy("S2", "P", "R2", date(2025, 3, 1), None,
                ((date(2025, 3, 1), date(2026, 2, 28), 800_00), (date(2026, 3, 1), None, 840_00)),
                term_starts=(date(2026, 3, 1),), term_ends=(date(2026, 2, 28), date(2027, 2, 28))),
    ]
    charges = [Charge("c1", "P", date(2026, 3, 1), 840_00), Charge("c2", "P", date(2026, 3, 10), 700_00),
               Charge("c0", "P", date(2026, 1, 1), 100_00)]
    allocations = {"c1": [(date(2026, 3, 3), 840_00)], "c2": [(date(2026, 3, 20), 500_00), (date(2026, 4, 2), 200_00)]}
    credits = [Credit("P", date(2026, 3, 10), 100_00, True), Credit("P", date(2026, 3, 31), 50_00, False)]
    wos = [WorkOrder("P", date(2026, 3, 2), date(2026, 3, 5)), WorkOrder("P", date(2026, 3, 20), None),
           WorkOrder("P", date(2026, 2, 27), date(2026, 3, 4))]
    rows, exp = performance(props, spaces, tenancies, charges, allocations, credits, wos, date(2026, 3, 31), months=2)
    march = next(r for r in rows if r.group == "P" and r.month == date(2026, 3, 1))
    assert (march.spaces, march.occupied, march.physical_occupancy) == (2, 2, Decimal("1.0000"))
    assert march.gross_potential_rent_cents == 2_000_00 and march.vacancy_loss_cents == 0
    assert march.loss_to_lease_cents == 50_00 + 160_00  # (1,000 − 950) + (1,000 − 840)
    assert march.concessions_cents == 100_00  # the proration credit is not a concession
    assert march.economic_occupancy == Decimal("0.8450")  # (2,000 − 210 − 100) / 2,000
    assert (march.billed_cents, march.collected_cents, march.collections_rate) == (1_540_00, 1_340_00,
                                                                                 Decimal("0.8701"))
    # open at Mar 31: c2's 200 (21 days) and January's 100 (89 days)
    assert march.delinquent_cents == 300_00 and march.delinquency_buckets["1-30"] == 200_00
    assert march.delinquency_buckets["61-90"] == 100_00
    assert march.expenses_cents == 1_000_00 and march.noi_cents == 540_00
    assert (march.new_leases, march.new_lease_rent_change) == (1, Decimal("0.0556"))  # 950 / 900 − 1
    assert (march.renewals, march.renewal_rent_change) == (1, Decimal("0.0500"))  # 840 / 800 − 1
    assert (march.work_orders_opened, march.work_orders_closed, march.avg_days_to_close) == (2, 2, Decimal("4.0"))  # (3 + 5) / 2
    feb = next(r for r in rows if r.group == "P" and r.month == date(2026, 2, 1))
    assert feb.occupied == 1 and feb.vacancy_loss_cents == 1_000_00  # S1 vacant from Feb 21
    owner = next(r for r in rows if r.group == "owner:Owner A" and r.month == date(2026, 3, 1))
    assert owner.gross_potential_rent_cents == 1_200_00 and owner.spaces == 2  # 60 % of the money, all the counts
    assert owner.economic_occupancy == march.economic_occupancy
    assert any(r.group == "type:multifamily" for r in rows) and any(r.group == "portfolio" for r in rows)
    assert [(e.month, e.leases) for e in exp] == [(date(2027, 2, 1), 1)]  # Mar 2026 - Feb 2027: not Mar 2027


def test_no_expenses_no_noi_and_expirations_window():
    props = [PropertyInfo("P", "Oak Flats", "multifamily")]
    rows, _ = performance(props, [Space("S1", "P", "U1", MARKET)], [], [], {}, [], [], date(2026, 3, 31), months=1)
    assert rows[0].noi_cents is None and rows[0].physical_occupancy == Decimal(0)
    t = Tenancy("S1", "P", "R", date(2025, 1, 1), None, ((date(2025, 1, 1), None, 1_00),),
                term_ends=(date(2026, 3, 31), date(2027, 4, 30)))
    assert lease_expirations([t], date(2026, 4, 1)) == []  # Apr 2026 - Mar 2027 holds no term end
    assert lease_expirations([t], date(2026, 5, 1))[0].month == date(2027, 4, 1)
