"""Named transforms for mappings: vectorised functions over whole pandas Series (never row by row in Python
where pandas/numpy can do it).

Each transform takes a Series and a `Ctx` (the location's time zone) and returns `(values, failed)`: the
converted Series and a boolean mask of rows whose value was present but could not be converted (those rows
are quarantined with the transform named). Outputs use the loader's canonical representations:

| output kind | representation                                   |
|-------------|--------------------------------------------------|
| int         | pandas Int64                                      |
| number      | float64 (money is rounded to cents later, exactly)|
| text        | object: str or None                               |
| date        | object: 'YYYY-MM-DD' or None                      |
| datetime    | object: 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, None |
| bool        | pandas boolean                                    |
| any         | unchanged (the column's kind converts it)         |
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

UTC = ZoneInfo("UTC")
SCALE = {"money": 2, "decimal": 4}  # exact column kinds → decimal places stored (as scaled integers)


@dataclass(frozen=True)
class Ctx:
    tz: ZoneInfo = UTC


Result = tuple[pd.Series, pd.Series]
Fn = Callable[[pd.Series, Ctx], Result]


@dataclass(frozen=True)
class Transform:
    name: str
    output: str  # int | number | text | date | datetime | bool | any
    fn: Fn
    doc: str


# Which transform outputs a column kind accepts.
ACCEPTS: dict[str, tuple[str, ...]] = {
    "int": ("int", "any"),
    "bigint": ("int", "any"),
    "money": ("number", "any"),
    "decimal": ("number", "any"),
    "text": ("text", "any"),
    "date": ("date", "any"),
    "datetime": ("datetime", "any"),
    "bool": ("bool", "any"),
    "json": ("text", "int", "number", "date", "datetime", "bool", "any"),
}

def _none_failed(s: pd.Series) -> pd.Series:
    return pd.Series(False, index=s.index)


def _mask(s: pd.Series, pred: Callable[[object], bool]) -> pd.Series:
    """Boolean Series: pred(value) for every value (fast path over the object array)."""
    vals = s.to_numpy(dtype=object)
    return pd.Series(np.fromiter((pred(v) for v in vals), dtype=bool, count=len(vals)), index=s.index)


def _is_blank(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


def _kind_of(s: pd.Series) -> str:
    """pandas' (C-speed) inference of what an object column holds: 'string', 'integer', 'boolean', 'mixed' …"""
    return pd.api.types.infer_dtype(s, skipna=True)


def _present(s: pd.Series) -> pd.Series:
    """Non-null and not a blank string."""
    if s.dtype == object:
        if _kind_of(s) == "string":  # every non-null value is a str
            vals = s.to_numpy(dtype=object)
            return pd.Series(np.fromiter((isinstance(v, str) and v != "" and not v.isspace() for v in vals),
                                         dtype=bool, count=len(vals)), index=s.index)
        return ~_mask(s, _is_blank)
    return s.notna()


def _strip_strings(s: pd.Series) -> pd.Series:
    """An object Series whose non-null values are all str: trimmed, blank → None (one pass, no pandas per-value
    machinery: the gate and the mappings trim every text field of every row)."""
    vals = s.to_numpy(dtype=object)
    out = np.empty(len(vals), dtype=object)
    out[:] = [(v.strip() or None) if isinstance(v, str) else None for v in vals]
    return pd.Series(out, index=s.index, dtype=object)


def _as_text(s: pd.Series) -> pd.Series:
    """Object series of str (blank → None); scalars of other types are rendered with str()."""
    if s.dtype != object:
        out = s.astype(object).where(s.notna(), None)
        return out.map(lambda v: None if v is None else (str(v).lower() if isinstance(v, (bool, np.bool_)) else str(v)))
    def conv(v):  # noqa: ANN001, ANN202
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, str):
            v = v.strip()
            return v or None
        if isinstance(v, (dict, list)):
            return None
        return str(v)
    return s.map(conv)


def t_identity(s: pd.Series, ctx: Ctx) -> Result:
    return s, _none_failed(s)


def t_text(s: pd.Series, ctx: Ctx) -> Result:
    if s.dtype == object and _kind_of(s) in ("string", "empty"):
        return _strip_strings(s), _none_failed(s)
    out = _as_text(s)
    failed = _mask(s, lambda v: isinstance(v, (dict, list))) if s.dtype == object else _none_failed(s)
    return out, failed


def t_strip(s: pd.Series, ctx: Ctx) -> Result:
    out, failed = t_text(s, ctx)
    return out.map(lambda v: re.sub(r"\s+", " ", v) if v else v), failed


def _text_op(op: Callable[[str], str]) -> Fn:
    def fn(s: pd.Series, ctx: Ctx) -> Result:
        out, failed = t_strip(s, ctx)
        return out.map(lambda v: op(v) if v else v), failed
    return fn


def _title(v: str) -> str:
    small = {"of", "and", "the", "at", "in", "for", "on", "de", "la"}
    words = v.lower().split(" ")
    out = []
    for i, w in enumerate(words):
        if i and w in small:
            out.append(w)
        else:
            out.append("-".join(p[:1].upper() + p[1:] for p in w.split("-")))
            if out[-1].startswith(("Mc", "O'")) and len(out[-1]) > 2:
                out[-1] = out[-1][:2] + out[-1][2:3].upper() + out[-1][3:]
    return " ".join(out)


def t_normalize_phone(s: pd.Series, ctx: Ctx) -> Result:
    out, failed = t_text(s, ctx)

    def norm(v: str | None) -> str | None:
        if not v:
            return None
        ext = ""
        m = re.search(r"(?:x|ext\.?|extension)\s*(\d+)\s*$", v, re.I)
        if m:
            ext, v = f" x{m.group(1)}", v[: m.start()]
        digits = re.sub(r"\D", "", v)
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if len(digits) == 10:
            return f"+1{digits}{ext}"
        if v.strip().startswith("+") and 8 <= len(digits) <= 15:
            return f"+{digits}{ext}"
        return None

    normed = out.map(norm)
    failed = failed | (out.notna() & normed.isna())
    return normed, failed


_UNIV_ABBREV = [
    (r"\bunivs?\.?(?=\s|$|,)", "University"), (r"\bu\.?\s+of\b", "University of"), (r"\bcoll\.?(?=\s|$)", "College"),
    (r"\binst\.?(?=\s|$)", "Institute"), (r"\btech\.?(?=\s|$)", "Technology"), (r"\bst\.(?=\s)", "State"),
    (r"\bcc\b", "Community College"), (r"&", "and"),
]


def _university(v: str) -> str:
    v = re.sub(r"\s+", " ", v.strip().strip(".,"))
    one_case = v.isupper() or v.islower()
    v = re.sub(r"^the\s+", "", v, flags=re.I)
    for pat, rep in _UNIV_ABBREV:
        v = re.sub(pat, rep, v, flags=re.I)
    v = re.sub(r"\s*[-–—,]\s*(main )?campus$", "", v, flags=re.I)
    # "Illinois University, Springfield" stays; "UNIVERSITY OF ILLINOIS" → "University of Illinois"
    return _title(v) if one_case else re.sub(r"\s+", " ", v)


INT_LIMIT = 2**62  # integers a value may hold (keys included): well inside 64 bits, exact in every layer
COLUMN_INT_LIMIT = {"int": 2**31, "bigint": INT_LIMIT}  # INTEGER / BIGINT columns: the same on every database
SCALED_LIMIT = {"money": 10**14, "decimal": 10**17}  # NUMERIC(14,2) / NUMERIC(18,4), as scaled integers


def _within(num: pd.Series, limit: int) -> pd.Series:
    return num.notna() & (num.abs() < limit)


def t_int(s: pd.Series, ctx: Ctx) -> Result:
    return _to_int(s, INT_LIMIT)


def _to_int(s: pd.Series, limit: int) -> Result:
    """Integers of magnitude below `limit`; others (fractions, text, out of range) fail."""
    if pd.api.types.is_integer_dtype(s.dtype):
        if s.dtype == np.uint64 or isinstance(s.dtype, pd.UInt64Dtype):  # a value beyond int64 made pandas widen
            big = s.notna() & (s.astype("float64") >= limit)
            return s.where(~big).astype("float64").astype("Float64").astype("Int64"), big.astype(bool)
        out = s.astype("Int64")
        bad = ((out >= limit) | (out <= -limit)).fillna(False).astype(bool)  # not abs(): -2**63 has none in int64
        if bad.any():
            return out.where(~bad), bad
        return out, _none_failed(s)
    present = _present(s)
    if s.dtype == object:
        bools = _mask(s, lambda v: isinstance(v, (bool, np.bool_)))
        num = pd.to_numeric(s.where(present & ~bools), errors="coerce")
    else:
        bools = _none_failed(s)
        num = pd.to_numeric(s, errors="coerce")
    integral = num.notna() & (np.floor(num) == num) & (num.abs() < limit)
    failed = present & ~integral
    out = num.where(integral).astype("Float64").astype("Int64")
    return out, failed


def t_number(s: pd.Series, ctx: Ctx) -> Result:
    if pd.api.types.is_float_dtype(s.dtype) or pd.api.types.is_integer_dtype(s.dtype):
        out = s.astype("float64")
        return out, _none_failed(s)
    present = _present(s)
    cleaned = s.where(present)
    if s.dtype == object:
        bools = _mask(s, lambda v: isinstance(v, (bool, np.bool_)))
        cleaned = cleaned.where(~bools)
        cleaned = cleaned.map(lambda v: v.replace(",", "").replace("$", "").strip() if isinstance(v, str) else v,
                              na_action="ignore")
    num = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    failed = present & (num.isna() | ~np.isfinite(num.fillna(0)))
    return num.where(~failed), failed


def t_money(s: pd.Series, ctx: Ctx) -> Result:
    num, failed = t_number(s, ctx)
    return num.round(2), failed


def t_cents(s: pd.Series, ctx: Ctx) -> Result:
    num, failed = t_number(s, ctx)
    return np.round(num * 100).astype("Float64").astype("Int64"), failed


def t_dollars_from_cents(s: pd.Series, ctx: Ctx) -> Result:
    num, failed = t_int(s, ctx)
    return num.astype("float64") / 100, failed


def t_percent(s: pd.Series, ctx: Ctx) -> Result:
    if s.dtype == object:
        s = s.map(lambda v: v.replace("%", "") if isinstance(v, str) else v, na_action="ignore")
    return t_number(s, ctx)


_TRUE = {"true", "yes", "y", "1", "t", "on", "x"}
_FALSE = {"false", "no", "n", "0", "f", "off", "none"}


def t_bool(s: pd.Series, ctx: Ctx) -> Result:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean"), _none_failed(s)
    if s.dtype == object and _kind_of(s) in ("boolean", "empty"):
        return s.astype("boolean"), _none_failed(s)

    def conv(v):  # noqa: ANN001, ANN202
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, (int, np.integer)) and v in (0, 1):
            return bool(v)
        if isinstance(v, str):
            low = v.strip().lower()
            if not low:
                return None
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
        return "__bad__"

    raw = s.map(conv)
    failed = _mask(raw, lambda v: isinstance(v, str))
    out = raw.where(~failed, None).astype("boolean")
    return out, failed


def _to_datetime64(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Naive datetime64[ns] from datetime64 or Rent Manager timestamp strings; returns (values, failed).

    .NET's 7th fractional digit is truncated (microsecond precision)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dtype, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        return s.astype("datetime64[ns]"), _none_failed(s)
    if s.dtype != object:
        s = s.astype(object)
    if _kind_of(s) in ("string", "empty"):
        # blank strings parse as NaT like nulls; only values that end up NaT are looked at again (below)
        present = None
        text = s
        if not s.notna().any():
            return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]"), _none_failed(s)
    else:
        is_str = _mask(s, lambda v: isinstance(v, str) and bool(v.strip()))
        present = _present(s)
        if not is_str.any():
            return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]"), present
        text = s.where(is_str, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if parsed.dtype == object:  # mixed offsets: parse each value
        parsed = text.map(lambda v: _one_datetime(v), na_action="ignore")
        parsed = pd.to_datetime(parsed, errors="coerce")
    if getattr(parsed.dtype, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    parsed = parsed.astype("datetime64[ns]").dt.floor("us")
    if present is None:
        failed = _none_failed(s)
        suspect = parsed.isna().to_numpy() & s.notna().to_numpy()
        if suspect.any():
            failed[suspect] = _present(s[suspect]).to_numpy()
        return parsed, failed
    failed = present & parsed.isna()
    return parsed, failed


def _one_datetime(v: str) -> object:
    try:
        ts = pd.Timestamp(v)
    except (ValueError, TypeError):
        return pd.NaT
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts


def _fmt_date(dt: pd.Series) -> pd.Series:
    arr = dt.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(str)
    out = pd.Series(arr, index=dt.index, dtype=object)
    return out.where(dt.notna(), None)


def _fmt_datetime(dt: pd.Series) -> pd.Series:
    """'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's SQLite format), built on the fixed-width numpy array."""
    arr = dt.to_numpy(dtype="datetime64[ns]").astype("datetime64[us]").astype("U26")
    if len(arr):
        arr.view(np.uint32).reshape(len(arr), 26)[:, 10] = ord(" ")  # 'T' → ' ' in place
    out = pd.Series(arr, index=dt.index, dtype=object)
    return out.where(dt.notna(), None)


def t_date(s: pd.Series, ctx: Ctx) -> Result:
    parsed, failed = _to_datetime64(s)
    return _fmt_date(parsed), failed


def t_first_of_month(s: pd.Series, ctx: Ctx) -> Result:
    parsed, failed = _to_datetime64(s)
    return _fmt_date(parsed.dt.to_period("M").dt.to_timestamp()), failed


def t_local_datetime(s: pd.Series, ctx: Ctx) -> Result:
    parsed, failed = _to_datetime64(s)
    if parsed.notna().any():
        parsed = local_to_utc(parsed, ctx.tz)
    return _fmt_datetime(parsed), failed


def local_to_utc(naive: pd.Series, tz: ZoneInfo) -> pd.Series:
    """Naive local wall times → naive UTC, the zone's offset looked up once per distinct local hour.

    Like zoneinfo with fold=0 (and the raw landing): an ambiguous fall-back hour reads as its first occurrence."""
    hours = naive.dt.floor("h")
    uniq = hours.dropna().unique()
    offsets = pd.Series([tz.utcoffset(h.to_pydatetime()) for h in uniq], index=uniq, dtype="timedelta64[ns]")
    return naive - hours.map(offsets)


def t_utc_datetime(s: pd.Series, ctx: Ctx) -> Result:
    parsed, failed = _to_datetime64(s)
    return _fmt_datetime(parsed), failed


def t_csv_list(s: pd.Series, ctx: Ctx) -> Result:
    out, failed = t_text(s, ctx)

    def norm(v: str | None) -> str | None:
        if not v:
            return None
        parts = [re.sub(r"\s+", " ", p.strip()) for p in re.split(r"[,;|]", v)]
        parts = [p for p in parts if p]
        return ",".join(parts) or None

    return out.map(norm), failed


def t_ssn_last4(s: pd.Series, ctx: Ctx) -> Result:
    out, failed = t_text(s, ctx)

    def last4(v: str | None) -> str | None:
        if not v:
            return None
        digits = re.sub(r"\D", "", v)
        return digits[-4:] if len(digits) >= 4 else None

    res = out.map(last4)
    return res, failed | (out.notna() & res.isna())


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def t_email(s: pd.Series, ctx: Ctx) -> Result:
    out, failed = t_text(s, ctx)
    low = out.map(lambda v: v.lower() if v else v)
    bad = _mask(low, lambda v: v is not None and not _EMAIL.match(v))
    return low.where(~bad, None), failed | bad


def t_null_if_blank(s: pd.Series, ctx: Ctx) -> Result:
    return s.where(_present(s), None), _none_failed(s)


REGISTRY: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform("identity", "any", t_identity, "the value as is (the column's type converts it)"),
        Transform("text", "text", t_text, "text, trimmed; blank → null"),
        Transform("strip", "text", t_strip, "text with whitespace collapsed"),
        Transform("upper", "text", _text_op(str.upper), "upper-case text"),
        Transform("lower", "text", _text_op(str.lower), "lower-case text"),
        Transform("title_case", "text", _text_op(_title), "Title Case text (keeps 'of', 'and' … lower-case)"),
        Transform("normalize_phone", "text", t_normalize_phone, "phone number as E.164 (+15551234567 x12)"),
        Transform("normalize_university_name", "text", _text_op(_university),
                  "university names: 'UNIV. OF ILLINOIS' → 'University of Illinois'"),
        Transform("email", "text", t_email, "lower-cased e-mail address; invalid → quarantined"),
        Transform("csv_list", "text", t_csv_list, "comma-separated list, trimmed: 'LIHTC, HOME' → 'LIHTC,HOME'"),
        Transform("ssn_last4", "text", t_ssn_last4, "last four digits of an SSN/TIN in any format"),
        Transform("null_if_blank", "any", t_null_if_blank, "blank strings → null, other values unchanged"),
        Transform("int", "int", t_int, "integer (\"3\", 3.0 → 3; 3.5 → quarantined)"),
        Transform("number", "number", t_number, "number (\"$1,250.00\" → 1250.0)"),
        Transform("money", "number", t_money, "money, exact to the cent (stored as NUMERIC / integer cents)"),
        Transform("cents", "int", t_cents, "dollars → integer cents (12.34 → 1234); target an int column"),
        Transform("dollars_from_cents", "number", t_dollars_from_cents, "integer cents → dollars"),
        Transform("percent", "number", t_percent, "percentage: '60%' or 60 → 60"),
        Transform("bool", "bool", t_bool, "boolean (true/false, yes/no, y/n, 1/0)"),
        Transform("yes_no", "bool", t_bool, "Yes/No → boolean"),
        Transform("date", "date", t_date, "calendar date of a Rent Manager timestamp (no time-zone shift)"),
        Transform("first_of_month", "date", t_first_of_month, "first day of the value's month"),
        Transform("local_datetime", "datetime", t_local_datetime,
                  "Rent Manager local wall-clock time → UTC using the location's time zone"),
        Transform("utc_datetime", "datetime", t_utc_datetime, "timestamp already in UTC (or with an offset)"),
    )
}


def get(name: str) -> Transform:
    return REGISTRY[name]


def is_canonical_output(output: str, kind: str) -> bool:
    """Whether a transform's output is already the canonical form of the column kind, so `coerce_to_kind` would
    return it unchanged: Int64 for bigint columns (an int column still checks the 32-bit range), boolean for bool,
    and dates / timestamps, which are always formatted from datetime64[ns] (years 1677–2262: 'YYYY-MM-DD',
    'YYYY-MM-DD HH:MM:SS.ffffff')."""
    return (output == "int" and kind == "bigint") or (output == kind and kind in ("bool", "date", "datetime"))


def coerce_to_kind(s: pd.Series, kind: str, ctx: Ctx) -> Result:
    """Convert a transform's output to the canonical representation of a column kind."""
    if kind in COLUMN_INT_LIMIT:
        return _to_int(s, COLUMN_INT_LIMIT[kind])
    if kind in SCALE:
        num, failed = t_number(s, ctx)
        scaled = np.round(num * (10 ** SCALE[kind]))
        too_big = scaled.abs() >= SCALED_LIMIT[kind]
        failed = failed | too_big.fillna(False)
        return scaled.where(~too_big).astype("Float64").astype("Int64"), failed
    if kind == "text":
        return t_text(s, ctx)
    if kind == "date":
        if s.dtype == object and _mask(s, lambda v: v is None or (isinstance(v, str) and len(v) == 10)).all():
            return s, _none_failed(s)
        return t_date(s, ctx)
    if kind == "datetime":
        if s.dtype == object and _mask(s, lambda v: v is None or (isinstance(v, str) and len(v) == 26 and v[10] == " ")).all():
            return s, _none_failed(s)
        return t_local_datetime(s, ctx)
    if kind == "bool":
        return t_bool(s, ctx)
    if kind == "json":
        return s.astype(object).where(s.notna(), None), _none_failed(s)
    raise ValueError(f"unknown column kind {kind!r}")
