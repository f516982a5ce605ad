"""Serialized records: every record is kept as the exact orjson bytes a page returns."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson


def dumps(rec: dict) -> bytes:
    # Copy orjson's over-allocated buffer into an exact-size bytes object: keeping a million of the originals
    # fragments the C heap so badly that serializing a large portfolio gets ~10x slower.
    return bytes(memoryview(orjson.dumps(rec)))


def extract(blob: bytes, needle: bytes, field: str) -> Any:
    """One top-level value of a flat serialized record, without parsing the rest (needle = b'"Field":').

    `"Field":` can only occur as a key: inside a JSON string every quote is escaped. Strings with escapes
    (rare) and anything unexpected fall back to a full parse.
    """
    i = blob.find(needle)
    if i < 0:
        return None
    j = i + len(needle)
    c = blob[j]
    if c == 34:  # '"'
        k = blob.find(b'"', j + 1)
        raw = blob[j + 1:k]
        if 92 in raw:  # a backslash: let the parser unescape it
            return orjson.loads(blob).get(field)
        return raw.decode()
    if c == 110:  # null
        return None
    if c == 116:  # true
        return True
    if c == 102:  # false
        return False
    if c in (123, 91):  # a nested object or array: not expected in flat records, parse properly
        return orjson.loads(blob).get(field)
    k = blob.find(b",", j)  # a number ends at the next field separator, or at the closing brace
    tok = blob[j:k] if k >= 0 else blob[j:-1]
    try:
        return int(tok)
    except ValueError:
        try:
            return float(tok)
        except ValueError:
            return orjson.loads(blob).get(field)


@contextmanager
def no_gc() -> Iterator[None]:
    """Building millions of small dicts: the cyclic GC would rescan them over and over (they hold no cycles)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.freeze()  # long-lived records move out of the collector's sight: no pauses while serving
