"""Roommate matching for the next term (compliance-rules.md §10).

Hard filters first (the property's lawful gender policy for shared bedrooms and bathrooms, smoking, unit type and
budget, move-in date), then a weighted compatibility score on behavioural preferences only, mutual requests
honoured, and the assignment by maximum-weight matching (networkx). Protected characteristics (race, colour,
religion, national origin, sex beyond a lawful gender policy, familial status, disability, age) are not fields
of :class:`Applicant`: they cannot reach the matching.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import networkx as nx

# Behavioural traits: (weight, ordered values). A value "flexible" matches anything partially.
TRAITS: dict[str, tuple[int, tuple[str, ...]]] = {
    "sleep": (25, ("early", "flexible", "late")),
    "cleanliness": (25, ("very tidy", "reasonably tidy", "relaxed")),
    "guests": (20, ("rarely", "occasional", "frequent")),
    "study": (15, ("quiet", "library", "music")),
    "temperature": (15, ("cool", "warm")),
}
FLEXIBLE = "flexible"
EXACT, PARTIAL, ADJACENT, OPPOSITE = 100, 60, 50, 0
MIN_SCORE = 40  # pairs below this are not proposed
MOVE_IN_WINDOW_DAYS = 14
PROTECTED = frozenset({"race", "color", "religion", "national_origin", "sex", "familial_status", "disability", "age",
                       "date_of_birth", "ethnicity", "marital_status"})

# The sandbox and many questionnaires phrase answers as sentences; these map them onto trait values.
PHRASES: dict[str, tuple[str, str]] = {
    "early riser": ("sleep", "early"), "night owl": ("sleep", "late"), "flexible schedule": ("sleep", FLEXIBLE),
    "very tidy": ("cleanliness", "very tidy"), "reasonably tidy": ("cleanliness", "reasonably tidy"),
    "relaxed about mess": ("cleanliness", "relaxed"), "quiet study space": ("study", "quiet"),
    "music while studying": ("study", "music"), "studies at library": ("study", "library"),
    "rarely has guests": ("guests", "rarely"), "occasional guests": ("guests", "occasional"),
    "social, frequent guests": ("guests", "frequent"), "keeps it cool": ("temperature", "cool"),
    "keeps it warm": ("temperature", "warm"), "non-smoker": ("smoking", "non-smoker"),
    "smoker": ("smoking", "smoker"), "no preference": ("smoking", "no preference"),
}


def parse_preferences(text: str | None) -> dict[str, str]:
    """'Early riser; Very tidy; …' → {'sleep': 'early', 'cleanliness': 'very tidy', …}; unknown phrases ignored."""
    out: dict[str, str] = {}
    for part in (text or "").split(";"):
        hit = PHRASES.get(part.strip().lower())
        if hit:
            out[hit[0]] = hit[1]
    return out


@dataclass(frozen=True)
class Applicant:
    """A next-term resident to place: behavioural answers and the facts the hard filters need, nothing else."""

    resident_id: str
    name: str
    property_id: str
    unit_type: str
    rate_cents: int  # the installment of the unit type applied for
    budget_cents: int | None  # the most the applicant will pay per installment (None: the rate is accepted)
    move_in: date
    smoking: str | None  # smoker | non-smoker | no preference
    housing_gender: str | None  # only read where the property's gender policy applies
    traits: tuple[tuple[str, str], ...]
    requested_roommate: str | None = None  # resident id


@dataclass(frozen=True)
class Match:
    property_id: str
    resident_a: str
    name_a: str
    resident_b: str | None
    name_b: str | None
    score: int | None
    basis: str  # mutual request | max-weight matching | unmatched
    reason: str


def trait_score(a: str | None, b: str | None, values: tuple[str, ...]) -> int:
    """Exact match 100; one side flexible (or unanswered) 60; neighbouring answers on a scale of three 50;
    opposite ends 0."""
    if a is None or b is None or a == FLEXIBLE or b == FLEXIBLE:
        return EXACT if a == b and a is not None else PARTIAL
    if a == b:
        return EXACT
    ia, ib = values.index(a) if a in values else None, values.index(b) if b in values else None
    if ia is None or ib is None:
        return PARTIAL
    return ADJACENT if abs(ia - ib) == 1 and len(values) > 2 else OPPOSITE


def compatibility(a: Applicant, b: Applicant) -> int:
    """Weighted behavioural score 0-100: Σ weight × trait score ÷ Σ weights, rounded half up."""
    ta, tb = dict(a.traits), dict(b.traits)
    total = sum(w * trait_score(ta.get(t), tb.get(t), vals) for t, (w, vals) in TRAITS.items())
    weights = sum(w for w, _v in TRAITS.values())
    return (2 * total + weights) // (2 * weights)


def hard_filter(a: Applicant, b: Applicant, gender_policy: str | None) -> str:
    """Why two applicants may not share (empty when they may): the property's same-gender policy for shared
    bedrooms/bathrooms (an unknown housing gender cannot be placed under it), a smoker with a non-smoker, a
    different unit type, a rate above either budget, move-ins more than 14 days apart."""
    if a.property_id != b.property_id:
        return "different properties"
    if gender_policy == "same-gender":
        if a.housing_gender is None or b.housing_gender is None:
            return "housing gender not on record (same-gender policy)"
        if a.housing_gender != b.housing_gender:
            return "same-gender policy"
    if {a.smoking, b.smoking} == {"smoker", "non-smoker"}:
        return "smoker with non-smoker"
    if a.unit_type != b.unit_type:
        return "different unit types"
    rate = max(a.rate_cents, b.rate_cents)
    if any(x.budget_cents is not None and rate > x.budget_cents for x in (a, b)):
        return "over budget"
    if abs((a.move_in - b.move_in).days) > MOVE_IN_WINDOW_DAYS:
        return "move-in dates too far apart"
    return ""


def match_roommates(applicants: list[Applicant], policies: dict[str, str | None]) -> list[Match]:
    """Pairs of roommates for the next term, per property.

    Rule: mutual requests that pass the hard filters are paired first. The rest form a graph whose edges are
    the pairs that pass :func:`hard_filter` with a compatibility of at least 40, weighted by it; a
    maximum-weight matching (networkx, deterministic for a given input order) picks the pairs. Everyone left
    is listed as unmatched with the reason. `policies` maps property → gender policy ("same-gender" or None)."""
    out: list[Match] = []
    by_prop: dict[str, list[Applicant]] = {}
    for a in sorted(applicants, key=lambda x: (x.property_id, x.resident_id)):
        by_prop.setdefault(a.property_id, []).append(a)
    for prop, group in by_prop.items():
        policy = policies.get(prop)
        ids = {a.resident_id: a for a in group}
        paired: set[str] = set()
        for a in group:
            b = ids.get(a.requested_roommate or "")
            if b is None or a.resident_id in paired or b.resident_id in paired or b.requested_roommate != a.resident_id:
                continue
            why = hard_filter(a, b, policy)
            if why:
                continue
            paired |= {a.resident_id, b.resident_id}
            out.append(Match(prop, a.resident_id, a.name, b.resident_id, b.name, compatibility(a, b),
                             "mutual request", ""))
        rest = [a for a in group if a.resident_id not in paired]
        g = nx.Graph()
        g.add_nodes_from(a.resident_id for a in rest)
        reasons: dict[str, str] = {}
        for i, a in enumerate(rest):
            for b in rest[i + 1:]:
                why = hard_filter(a, b, policy)
                score = compatibility(a, b) if not why else 0
                if not why and score >= MIN_SCORE:
                    g.add_edge(a.resident_id, b.resident_id, weight=score)
                else:
                    for x in (a, b):
                        reasons.setdefault(x.resident_id, why or "no compatible roommate (score below 40)")
        chosen = sorted(tuple(sorted(e)) for e in nx.max_weight_matching(g, maxcardinality=False))
        for x, y in chosen:
            out.append(Match(prop, x, ids[x].name, y, ids[y].name, g[x][y]["weight"], "max-weight matching", ""))
            paired |= {x, y}
        for a in rest:
            if a.resident_id not in paired:
                out.append(Match(prop, a.resident_id, a.name, None, None, None, "unmatched",
                                 reasons.get(a.resident_id, "no other applicant")))
    return out
