"""Rendering records to wire JSON: pre-serialized bytes for plain pages; embeds, calculated fields and the
`fields` projection otherwise."""

from __future__ import annotations

from typing import Any

import orjson

from . import catalog
from .catalog import Collection, Embed
from .query import EmbedTree, FieldSel
from .store import SandboxStore
from .timeutil import dt_key


class Renderer:
    """Turns records into wire JSON, adding embeds, calculated fields and the `fields` projection."""

    def __init__(self, store: SandboxStore) -> None:
        self.store = store

    def page(self, coll: str, ids: list[int], fields: FieldSel | None, embeds: EmbedTree) -> bytes:
        if fields is None and not embeds:
            blobs = self.store.blobs(coll)
            return b"[" + b",".join([blobs[i] for i in ids if i in blobs]) + b"]"
        record = self.store.record
        return orjson.dumps([self.shape(coll, r, fields, embeds) for r in (record(coll, i) for i in ids) if r])

    def one(self, coll: str, rec: dict, fields: FieldSel | None, embeds: EmbedTree) -> bytes:
        if fields is None and not embeds:
            return self.store.blob(coll, rec[catalog.COLLECTIONS[coll].pk]) or orjson.dumps(rec)
        return orjson.dumps(self.shape(coll, rec, fields, embeds))

    def shape(self, coll: str, rec: dict, fields: FieldSel | None, embeds: EmbedTree) -> dict:
        spec = catalog.COLLECTIONS[coll]
        out = dict(rec) if fields is None else {k: v for k, v in rec.items() if k in fields.names}
        for name, (emb, sub) in embeds.items.items():
            if name in spec.calculated.values():
                out.update(self._calc(coll, rec, name, fields))
            if emb.kind == "calc" or (fields is not None and name not in fields.names):
                continue  # an embed must also be listed in `fields` when `fields` is given
            sub_fields = fields.sub.get(name) if fields is not None else None
            value = self.linked(spec, rec, emb)
            if emb.kind == "one":
                out[name] = self.shape(emb.target, value, sub_fields, sub) if value is not None else None
            else:
                out[name] = [self.shape(emb.target, c, sub_fields, sub) for c in value]
        return out

    def linked(self, spec: Collection, rec: dict, emb: Embed) -> Any:
        if emb.kind == "one":
            key = rec.get(emb.local)
            if key is None:
                return None
            try:
                return self.store.record(emb.target, int(key))
            except (TypeError, ValueError):
                return None
        ids = self.store.index(emb.target, emb.remote, emb.where).get(rec.get(emb.local or spec.pk), ())
        record = self.store.record
        return [r for r in (record(emb.target, i) for i in ids) if r is not None]

    def _calc(self, coll: str, rec: dict, embed_name: str, fields: FieldSel | None) -> dict:
        """Calculated fields that only exist when their embed is requested."""
        spec = catalog.COLLECTIONS[coll]
        wanted = [f for f, e in spec.calculated.items() if e == embed_name and (fields is None or f in fields.names)]
        if not wanted:
            return {}
        if coll == "Leases":
            renewals = self.linked(spec, rec, spec.embed("LeaseRenewals"))  # type: ignore[arg-type]
            latest = max(renewals, key=lambda r: (dt_key(str(r.get("StartDate") or "")) or "", r["LeaseRenewalID"]),
                         default=None)
            vals = {"StartDate": latest.get("StartDate") if latest else None,
                    "EndDate": latest.get("EndDate") if latest else None}
            return {f: vals[f] for f in wanted if f in vals}
        if coll == "Tenants" and "Balance" in wanted:
            return {"Balance": self.balance(int(rec["TenantID"]))}
        return {}

    def balance(self, tenant_id: int) -> float:
        """Charges - payments (not reversed) - credits on the tenant's ledger."""
        total = 0.0
        for coll, sign in (("Charges", 1), ("Payments", -1), ("Credits", -1)):
            for i in self.store.index(coll, "AccountID").get(tenant_id, ()):
                r = self.store.record(coll, i) or {}
                if coll == "Payments" and r.get("ReversalDate"):
                    continue
                total += sign * float(r.get("Amount") or 0)
        return round(total, 2)
