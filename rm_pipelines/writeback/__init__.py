"""Write-back: what EstateCore may change in Rent Manager, and who wins when both sides changed a field.

Pure code (no database, no HTTP): `resources.py` names the writable Rent Manager resources (key, concurrency
fields, the catalog entity a write is re-read into); `policies.py` decides, field by field, what a write does
after a 409 (`rm_wins | estatecore_wins | newest_wins | manual`). The outbox lives in `ops.outbox`
(`warehouse/outbox.py`); posting it is `flows/writeback.py`.
"""
