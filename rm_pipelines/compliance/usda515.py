"""USDA Rural Development Section 515 tenant contribution and overage (7 CFR 3560.203; compliance-rules.md §4).

Open item (§14 item 5): the utility-allowance and Rental Assistance arithmetic of RD Handbook HB-2-3560
chapter 6 is not verified. This module follows §4 as written: the 30 %/10 % figures are compared with
**gross** basic and note rents (shelter rent + UA), NTC = GTC − UA, RA pays the gap to gross basic rent,
and overage is what is collected above basic rent up to note rent. The gross tenant contribution is
rounded to the nearest dollar, .50 up — HUD's TTP convention, assumed for RD's whole-dollar forms [I].
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .rounding import D, Money, round_half_up_dollars

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TenantContribution:
    """One household's Section 515 rent figures (monthly)."""

    gross_tenant_contribution: int
    """GTC: highest of the tests, capped at gross note rent."""
    net_tenant_contribution: Decimal
    """NTC = GTC − UA: what the tenant pays the owner (never below 0)."""
    utility_reimbursement: Decimal
    """UA − GTC when the contribution is below the utility allowance (RA households)."""
    overage: Decimal
    """Collected above gross basic rent, up to gross note rent: remitted to RD (and excluded from LIHTC
    gross rent)."""
    rental_assistance: Decimal
    """RA paid to the owner: gross basic rent − GTC for RA households."""
    basis: str
    """Which test set the GTC: ``adjusted-30``, ``gross-10``, ``shelter-assistance``, ``basic-rent`` or
    ``note-rent-cap``."""


def tenant_contribution(
    adjusted_annual: Money,
    gross_annual: Money,
    basic_rent: Money,
    note_rent: Money,
    utility_allowance: Money,
    rental_assistance: bool,
    shelter_assistance: Money | None = None,
) -> TenantContribution:
    """Section 515 tenant contribution (7 CFR 3560.203; §4).

    GTC = the **highest** of 30 % of monthly adjusted income (adjusted ÷ 40), 10 % of monthly gross income
    (gross ÷ 120), the designated shelter portion of public assistance, and gross basic rent (basic + UA)
    **unless** the household receives RD Rental Assistance — **but never more than gross note rent**
    (note + UA). Rounded to the dollar, .50 up [I]. NTC = GTC − UA. Overage = max(0, GTC − gross basic
    rent). RA = max(0, gross basic rent − GTC) for RA households.
    """
    ua = D(utility_allowance)
    gross_basic = D(basic_rent) + ua
    gross_note = D(note_rent) + ua
    if gross_note < gross_basic:
        raise ValueError("note rent must be at least the basic rent")
    prongs = {
        "adjusted-30": D(adjusted_annual) / 40,
        "gross-10": D(gross_annual) / 120,
    }
    if shelter_assistance is not None:
        prongs["shelter-assistance"] = D(shelter_assistance)
    if not rental_assistance:
        prongs["basic-rent"] = gross_basic
    basis, highest = max(prongs.items(), key=lambda kv: kv[1])
    if highest > gross_note:
        basis, highest = "note-rent-cap", gross_note
    gtc = round_half_up_dollars(highest)
    net = Decimal(gtc) - ua
    return TenantContribution(
        gross_tenant_contribution=gtc,
        net_tenant_contribution=max(ZERO, net),
        utility_reimbursement=max(ZERO, -net),
        overage=max(ZERO, gtc - gross_basic),
        rental_assistance=max(ZERO, gross_basic - gtc) if rental_assistance else ZERO,
        basis=basis,
    )
