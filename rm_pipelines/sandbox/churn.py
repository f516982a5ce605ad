"""Simulated activity on the sandbox portfolio: edits (UpdateDate moves forward) and hard deletes.

Used to exercise incremental sync (UpdateDate watermarks), webhooks and delete detection. Deterministic for a
given store state and seed.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field

from . import catalog
from .store import SandboxStore


@dataclass
class ChurnResult:
    """PKs touched per collection. `deleted` includes rows removed by cascade (UDF values of a deleted contact...)."""

    changed: dict[str, list[int]] = field(default_factory=dict)
    deleted: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"changed": self.changed, "deleted": self.deleted}

    @classmethod
    def from_dict(cls, data: dict) -> ChurnResult:
        def conv(d: dict) -> dict[str, list[int]]:
            return {k: [int(i) for i in v] for k, v in (d or {}).items()}

        return cls(changed=conv(data.get("changed", {})), deleted=conv(data.get("deleted", {})))


def _weighted_pick(rng: random.Random, pools: dict[str, list[int]], n: int) -> dict[str, list[int]]:
    """Up to n distinct IDs spread over collections weighted by size**0.75 (ledger-heavy, but not only ledger)."""
    names = [c for c in sorted(pools) if pools[c]]
    if not names or n <= 0:
        return {}
    counts = dict.fromkeys(names, 0)
    for coll in rng.choices(names, [len(pools[c]) ** 0.75 for c in names], k=n):
        counts[coll] += 1
    picked = {}
    for coll in names:
        k = min(counts[coll], len(pools[coll]))
        if k:
            picked[coll] = sorted(rng.sample(pools[coll], k))
    return picked


def _deletable(store: SandboxStore, coll: str) -> list[int]:
    """IDs of `coll` that can go without leaving dangling references."""
    ids = store.sorted_ids(coll)
    if coll == "Charges":
        allocated = store.index("Allocations", "ChargeID")
        return [i for i in ids if i not in allocated]
    if coll == "Contacts":
        _, primary = store.column("Contacts", "IsPrimary")
        return [i for i, p in zip(ids, primary, strict=True) if not p]  # the account's primary contact stays
    return list(ids)


def churn(store: SandboxStore, changes: int, deletes: int, seed: int | None = None) -> ChurnResult:
    """Simulate activity: `changes` edits (UpdateDate bumped) and `deletes` hard deletes; fires webhooks."""
    if seed is None:
        # Different every call yet reproducible from the state: derived from the newest UpdateDate.
        seed = zlib.crc32(f"{store.seed}|{store.max_update_key()}".encode())
    rng = random.Random(seed)
    result = ChurnResult()
    with store.lock:
        editable = {name: store.sorted_ids(name) for name, spec in catalog.COLLECTIONS.items()
                    if spec.top_level and spec.audit and name in store.collections()}
        for coll, ids in _weighted_pick(rng, editable, changes).items():
            text_field = next((f for f in catalog.CHURN_TEXT_FIELDS if f in store.fields(coll)), None)

            def edit(rec: dict, _f: str | None = text_field) -> None:
                if _f is not None:
                    rec[_f] = f"Edited by sandbox churn #{rng.randrange(1_000_000):06d}"

            store.touch(coll, ids, edit)
            result.changed[coll] = ids
        # Deletes never hit a record edited in this same churn (keeps the two lists easy to reason about).
        pools = {}
        for coll in catalog.DELETABLE:
            if coll in store.collections():
                edited = set(result.changed.get(coll, ()))
                pools[coll] = [i for i in _deletable(store, coll) if i not in edited]
        for coll, ids in _weighted_pick(rng, pools, deletes).items():
            for name, gone in store.delete(coll, ids, missing_ok=True).items():
                result.deleted.setdefault(name, []).extend(gone)
    for name in result.deleted:
        result.deleted[name].sort()
    return result
