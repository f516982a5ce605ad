"""Dialect-aware bulk writes of EstateCore rows: PostgreSQL through COPY into a temporary table and one
`INSERT … ON CONFLICT`; SQLite through executemany upserts inside the caller's (large) transaction.

Values travel in a canonical form per column kind, so new values can be compared with stored ones the same
way on both databases:

| kind          | canonical value                       | SQLite stores        | PostgreSQL stores |
|---------------|---------------------------------------|----------------------|-------------------|
| int, bigint   | int                                   | INTEGER              | integer / bigint  |
| money/decimal | int scaled by 10**scale (cents …)     | INTEGER (scaled)     | NUMERIC(p, s)     |
| text, json    | str                                   | TEXT                 | text              |
| date          | 'YYYY-MM-DD'                          | TEXT                 | date              |
| datetime      | 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)    | TEXT (SQLAlchemy)    | timestamptz       |
| bool          | bool                                  | INTEGER 0/1          | boolean           |
| sensitive     | plaintext canonical (see above)       | TEXT `enc:…`         | text `enc:…`      |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice, repeat
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from . import tables as T

STAGE_PREFIX = "_stage_"
SQLITE_MAX_PARAMS = 32_766  # SQLITE_MAX_VARIABLE_NUMBER of SQLite ≥ 3.32
SQLITE_ROWS_PER_STATEMENT = 500  # multi-row VALUES: one statement step (and one GIL release) per 500 rows
PG_TYPES = {"int": "bigint", "bigint": "bigint", "money": "numeric", "decimal": "numeric", "text": "text",
            "json": "text", "date": "date", "datetime": "timestamptz", "bool": "boolean"}  # by storage kind


# ---------------------------------------------------------------------------------------------------- canonical


def canon_from_db(kind: str, value: Any) -> Any:
    """A stored value (either dialect) in canonical form."""
    if value is None:
        return None
    if kind in ("int", "bigint"):
        return int(value)
    if kind in T.SCALE:
        if isinstance(value, Decimal):
            return int(value.scaleb(T.SCALE[kind]).to_integral_value())
        if isinstance(value, float):
            return int(round(value * 10 ** T.SCALE[kind]))
        return int(value)
    if kind == "bool":
        return bool(value)
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)[:10]
    if kind == "datetime":
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(timezone.utc).replace(tzinfo=None)
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        text = str(value)
        return text if len(text) == 26 else datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S.%f")
    return str(value)


def plain_text(kind: str, canonical: Any) -> str:
    """Canonical value → the plaintext that is encrypted (money as '41250.00')."""
    if kind in T.SCALE:
        return scaled_to_str(int(canonical), T.SCALE[kind])
    if kind == "bool":
        return "true" if canonical else "false"
    return str(canonical)


def canon_from_plain(kind: str, text: str | None) -> Any:
    """Decrypted plaintext → canonical value."""
    if text is None:
        return None
    if kind in T.SCALE:
        return int(Decimal(text).scaleb(T.SCALE[kind]).to_integral_value())
    if kind in ("int", "bigint"):
        return int(text)
    if kind == "bool":
        return text == "true"
    return text


def scaled_to_str(value: int, scale: int) -> str:
    sign = "-" if value < 0 else ""
    q, r = divmod(abs(value), 10**scale)
    return f"{sign}{q}.{r:0{scale}d}"


def display(kind: str, canonical: Any, sensitive: bool = False) -> Any:
    """How a canonical value appears in audit entries and previews."""
    if canonical is None:
        return None
    if sensitive:
        return "****"
    if kind in T.SCALE:
        return scaled_to_str(int(canonical), T.SCALE[kind])
    return canonical


def to_db(kind: str, canonical: Any, dialect: str) -> Any:
    """Canonical → a parameter value for executemany (SQLite) or psycopg."""
    if canonical is None:
        return None
    if dialect == "sqlite":
        return canonical  # sqlite3 stores bools as 0/1; scaled decimals as integers
    if kind in T.SCALE:
        return Decimal(int(canonical)).scaleb(-T.SCALE[kind])
    if kind == "datetime":
        return f"{canonical}+00"  # canonical timestamps are UTC, whatever the session's TimeZone
    return canonical


# ---------------------------------------------------------------------------------------------------- COPY text

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(kind: str, canonical: Any) -> str:
    """Canonical → one field of PostgreSQL COPY text format."""
    if canonical is None:
        return "\\N"
    if kind in T.SCALE:
        return scaled_to_str(int(canonical), T.SCALE[kind])
    if kind == "bool":
        return "t" if canonical else "f"
    if kind == "datetime":
        return f"{canonical}+00"
    if kind in ("int", "bigint"):
        return str(int(canonical))
    return str(canonical).translate(_ESCAPES)


def copy_column(kind: str, values: Sequence[Any]) -> list[str]:
    """A whole column in COPY text format (the per-kind branch is taken once, not per value; the common cases run
    at C speed through `map`)."""
    has_null = None in values
    if kind in ("int", "bigint"):
        out = list(map(str, values))
    elif kind in T.SCALE:
        # scaled integers in exponent notation ('12200e-2' is exactly 122.00: numeric input is decimal)
        exp = f"e-{T.SCALE[kind]}"
        return ["\\N" if v is None else f"{v}{exp}" for v in values]
    elif kind == "bool":
        return ["\\N" if v is None else ("t" if v else "f") for v in values]
    elif kind == "datetime":
        return ["\\N" if v is None else v + "+00" for v in values]
    elif kind == "date":
        out = list(values)
    else:
        out = list(values)
        # escaping is rare: look for the special characters once over the whole column
        text = "".join(filter(None, values))
        if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
            tr = _ESCAPES
            return ["\\N" if v is None else v.translate(tr) for v in values]
    if has_null:
        return ["\\N" if v is None else t for v, t in zip(values, out)]
    return out


def copy_lines(kinds: Sequence[str], cols: Sequence[Any], n: int, batch: int = 20_000) -> Iterable[str]:
    """Column-wise canonical data (`Const` for one value in every row) as COPY text, `batch` lines at a time.

    Runs of constant columns are formatted once and joined as one field; each line is joined at C speed."""
    parts: list[Any] = []
    const_run: list[str] = []
    for kind, col in zip(kinds, cols):
        if isinstance(col, Const):
            const_run.append(copy_text(kind, col.value))
            continue
        if const_run:
            parts.append("\t".join(const_run))
            const_run = []
        parts.append(copy_column(kind, col))
    if const_run:
        parts.append("\t".join(const_run))
    iters = [repeat(p, n) if isinstance(p, str) else p for p in parts]
    lines = map("\t".join, zip(*iters))
    while True:
        block = list(islice(lines, batch))
        if not block:
            return
        block.append("")
        yield "\n".join(block)


# ---------------------------------------------------------------------------------------------------- writer


class Writer:
    """Writes rows of one EstateCore table within an open connection/transaction."""

    def __init__(self, conn: Any, table: str, kinds: dict[str, str], key: Sequence[str]) -> None:
        self.conn = conn
        self.table = table
        self.kinds = kinds  # column → storage kind ('text' for encrypted columns)
        self.key = tuple(key)
        self.dialect = conn.dialect.name
        self.qualified = table if self.dialect == "sqlite" else f"estatecore.{table}"

    # -- upsert -------------------------------------------------------------------------------------------
    def upsert(self, columns: Sequence[str], rows: list[tuple]) -> str | None:
        """Insert or update rows (tuples of canonical values in `columns` order) on the natural key.

        `created_at` is kept on update. PostgreSQL: COPY into a temporary table, then one `INSERT … SELECT …
        ON CONFLICT`; returns that stage (it lives until the transaction ends, see `insert_new`)."""
        if not rows:
            return None
        if self.dialect == "sqlite":
            self._sqlite_upsert(columns, rows)
            return None
        stage = self._stage(columns, f"{STAGE_PREFIX}{self.table}")
        copy_rows(self.conn, stage, columns, [self.kinds[c] for c in columns], rows)
        self._merge(columns, stage)
        return stage

    def insert_new(self, new: NewRows) -> str | None:
        """Rows whose keys were not in the table when the batch was read (`new_rows`). The same upsert as `upsert`
        — a key another writer inserted meanwhile is updated, never duplicated — built for the first load of a
        table (all new keys): only the varying columns travel through COPY; the constant ones are parameters of
        the `INSERT … SELECT … ON CONFLICT`.

        PostgreSQL: returns the stage (the varying columns of exactly these rows, until the transaction ends), so
        the caller can derive rows from it on the server (the audit rows of the inserts); SQLite: None."""
        if not new.n:
            return None
        if self.dialect == "sqlite":
            # the constant columns are literals of the statement: only the varying ones are bound
            template = "(" + ", ".join(sqlite_literal(col.value) if isinstance(col, Const) else "?"
                                       for col in new.cols) + ")"
            self._sqlite_upsert(new.columns, None, template, cols=new.varying_cols(), n=new.n)
            return None
        stage = self._stage(new.varying, f"{STAGE_PREFIX}new_{self.table}")
        names = ", ".join(f'"{c}"' for c in new.varying)
        raw = self.conn.connection.dbapi_connection
        blocks = new.copy_blocks
        if blocks is None:
            blocks = copy_lines([self.kinds[c] for c in new.varying], new.varying_cols(), new.n)
        with raw.cursor() as cur, cur.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for block in blocks:
                copy.write(block)
        exprs, params = [], []
        for c, col in zip(new.columns, new.cols):
            if isinstance(col, Const):
                exprs.append(f"CAST(%s AS {PG_TYPES[self.kinds[c]]})")
                params.append(to_db(self.kinds[c], col.value, "postgresql"))
            else:
                exprs.append(f'"{c}"')
        self._merge(new.columns, stage, exprs, params)
        return stage

    def _sqlite_upsert(self, columns: Sequence[str], rows: list[tuple] | None, template: str | None = None, *,
                       cols: Sequence[list] | None = None, n: int = 0) -> None:
        """Rows as tuples (`rows`), or column-wise (`cols` of `n` values, what the template's `?` bind)."""
        updates = [c for c in columns if c not in self.key and c != "created_at"]
        sets = ", ".join(f"{c} = excluded.{c}" for c in updates)
        head = f"INSERT INTO {self.qualified} ({', '.join(columns)}) VALUES"
        tail = f"ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {sets}"
        template = template or "(" + ", ".join("?" * len(columns)) + ")"
        if cols is not None:
            sqlite_column_values(self.conn, head, tail, template, cols, n)
        else:
            sqlite_values(self.conn, head, tail, template, rows or [])

    def _stage(self, columns: Sequence[str], stage: str) -> str:
        """An empty temporary table with these columns of the target (dropped at commit)."""
        cols = ", ".join(f'"{c}"' for c in columns)
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
        self.conn.exec_driver_sql(
            f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {cols} FROM {self.qualified} WITH NO DATA"
        )
        return stage

    def _merge(self, columns: Sequence[str], stage: str, exprs: Sequence[str] | None = None,
               params: Sequence[Any] = ()) -> None:
        """The one `INSERT … SELECT … ON CONFLICT` from a stage (`exprs`: what is selected for each column, default
        the stage's column of that name). No join: the stage needs no statistics."""
        updates = [c for c in columns if c not in self.key and c != "created_at"]
        cols = ", ".join(f'"{c}"' for c in columns)
        select = ", ".join(exprs) if exprs is not None else cols
        sets = ", ".join(f'"{c}" = excluded."{c}"' for c in updates)
        self.conn.exec_driver_sql(
            f"INSERT INTO {self.qualified} ({cols}) SELECT {select} FROM {stage} "
            f"ON CONFLICT ON CONSTRAINT uq_{self.table}_key DO UPDATE SET {sets}",
            tuple(params),
        )

    # -- targeted updates ---------------------------------------------------------------------------------
    def update(self, set_columns: Sequence[str], key_columns: Sequence[str], rows: list[tuple]) -> None:
        """UPDATE … SET set_columns WHERE key_columns, one row per tuple (set values first, then key values)."""
        if not rows:
            return
        if self.dialect == "sqlite":
            sets = ", ".join(f"{c} = ?" for c in set_columns)
            where = " AND ".join(f"{c} = ?" for c in key_columns)
            self.conn.exec_driver_sql(f"UPDATE {self.qualified} SET {sets} WHERE {where}", rows)
            return
        if len(rows) < 200:
            sets = ", ".join(f'"{c}" = %s' for c in set_columns)
            where = " AND ".join(f'"{c}" = %s' for c in key_columns)
            kinds = [self.kinds[c] for c in (*set_columns, *key_columns)]
            self.conn.exec_driver_sql(
                f"UPDATE {self.qualified} SET {sets} WHERE {where}",
                [tuple(to_db(k, v, "postgresql") for k, v in zip(kinds, r)) for r in rows],
            )
            return
        columns = [*set_columns, *key_columns]
        stage = self._stage(columns, f"{STAGE_PREFIX}{self.table}")
        copy_rows(self.conn, stage, columns, [self.kinds[c] for c in columns], rows)
        self.conn.exec_driver_sql(f"ANALYZE {stage}")  # the join below needs the stage's real size
        sets = ", ".join(f'"{c}" = s."{c}"' for c in set_columns)
        where = " AND ".join(f't."{c}" = s."{c}"' for c in key_columns)
        self.conn.exec_driver_sql(f"UPDATE {self.qualified} t SET {sets} FROM {stage} s WHERE {where}")
        self.conn.exec_driver_sql(f"DROP TABLE {stage}")


@dataclass
class NewRows:
    """Rows with new keys for `Writer.insert_new`, column-wise (`Const` for one value in every row). `new_rows`
    also does the pure-Python formatting up front (COPY text / parameter tuples), so it can run apart from the
    thread that writes."""

    columns: tuple[str, ...]
    cols: list[Any]
    n: int
    varying: list[str] = field(default_factory=list)  # columns that are not Const (what COPY carries)
    copy_blocks: list[str] | None = None  # PostgreSQL: the varying columns as COPY text

    def column(self, name: str) -> Any:
        col = self.cols[self.columns.index(name)]
        return [col.value] * self.n if isinstance(col, Const) else col

    def varying_cols(self) -> list[Any]:
        return [col for col in self.cols if not isinstance(col, Const)]


def new_rows(dialect: str, columns: Sequence[str], kinds: dict[str, str], cols: Sequence[Any], n: int) -> NewRows:
    """Prepare rows with new keys for `Writer.insert_new` (`kinds`: storage kind per column)."""
    new = NewRows(tuple(columns), list(cols), n, [c for c, col in zip(columns, cols) if not isinstance(col, Const)])
    if dialect != "sqlite":  # SQLite binds the columns as they are (`sqlite_column_values`)
        new.copy_blocks = list(copy_lines([kinds[c] for c in new.varying], new.varying_cols(), n))
    return new


class Const:
    """A column holding one value in every row (never materialised as a list)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def rows_of(cols: Sequence[Any], n: int) -> Iterable[tuple]:
    return zip(*[repeat(c.value, n) if isinstance(c, Const) else c for c in cols])


def copy_columns(conn: Any, table: str, columns: Sequence[str], kinds: Sequence[str], cols: Sequence[Any],
                 n: int) -> None:
    """COPY column-wise canonical data into a PostgreSQL table (text format)."""
    names = ", ".join(f'"{c}"' for c in columns)
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for chunk in copy_lines(kinds, cols, n):
            copy.write(chunk)


def copy_rows(conn: Any, table: str, columns: Sequence[str], kinds: Sequence[str], rows: list[tuple]) -> None:
    """COPY canonical rows into a PostgreSQL table (text format)."""
    cols = list(zip(*rows)) if rows else [() for _ in columns]
    copy_columns(conn, table, columns, kinds, cols, len(rows))


def sqlite_literal(value: Any) -> str:
    """A constant as an SQLite literal (NULL, integer, or quoted text)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("a text constant cannot hold NUL")
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQLite literal for {type(value).__name__}")


def sqlite_values(conn: Any, head: str, tail: str, template: str, rows: Sequence[tuple]) -> None:
    """`<head> (?, …), (?, …), … <tail>` for every row, SQLite: up to 500 rows per statement (executemany), so the
    statement is stepped — and the interpreter lock released and taken back — once per group rather than once per
    row: less time in the driver, and no row-by-row wait for the lock while another thread computes. The same
    rows in the same order as one row per statement."""
    if not rows:
        return
    one = template  # "(?, ?, …)": one row, the parameters of one tuple
    group = max(1, min(SQLITE_ROWS_PER_STATEMENT, SQLITE_MAX_PARAMS // max(one.count("?"), 1)))
    full = len(rows) // group * group
    if full:
        flat = chain.from_iterable
        params = [tuple(flat(rows[i:i + group])) for i in range(0, full, group)]
        conn.exec_driver_sql(f"{head} {', '.join([one] * group)} {tail}", params)
    if full < len(rows):
        conn.exec_driver_sql(f"{head} {one} {tail}", list(rows[full:]))


def sqlite_column_values(conn: Any, head: str, tail: str, template: str, cols: Sequence[list], n: int) -> None:
    """`sqlite_values` for column-wise rows: `cols` holds, for each `?` of the template, the list of its `n`
    values. Each statement's parameters are woven from column slices (`flat[j::k] = column[i:i + m]`, at C speed)
    rather than gathered row by row."""
    if not n:
        return
    k = len(cols)
    if k != template.count("?"):
        raise ValueError(f"{k} columns for a template of {template.count('?')} parameters")
    if k == 0:
        sqlite_values(conn, head, tail, template, [()] * n)
        return
    group = max(1, min(SQLITE_ROWS_PER_STATEMENT, SQLITE_MAX_PARAMS // k))
    full = n // group * group

    def woven(i: int, m: int) -> tuple[Any, ...]:
        flat: list[Any] = [None] * (m * k)
        for j, col in enumerate(cols):
            flat[j::k] = col[i:i + m]
        return tuple(flat)

    if full:
        conn.exec_driver_sql(f"{head} {', '.join([template] * group)} {tail}",
                             [woven(i, group) for i in range(0, full, group)])
    if full < n:
        conn.exec_driver_sql(f"{head} {', '.join([template] * (n - full))} {tail}", woven(full, n - full))


def insert_columns(conn: Any, qualified_table: str, columns: Sequence[str], kinds: Sequence[str],
                   cols: Sequence[Any], n: int) -> None:
    """Append column-wise rows (canonical values, `Const` columns): COPY on PostgreSQL, executemany on SQLite."""
    if not n:
        return
    if conn.dialect.name == "sqlite":
        sqlite_values(conn, f"INSERT INTO {qualified_table} ({', '.join(columns)}) VALUES", "",
                      "(" + ", ".join("?" * len(columns)) + ")", list(rows_of(cols, n)))
        return
    copy_columns(conn, qualified_table, columns, kinds, cols, n)


def insert_rows(conn: Any, qualified_table: str, columns: Sequence[str], kinds: Sequence[str],
                rows: list[tuple]) -> None:
    """Append rows (canonical values) to a table: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        sqlite_values(conn, f"INSERT INTO {qualified_table} ({', '.join(columns)}) VALUES", "",
                      "(" + ", ".join("?" * len(columns)) + ")", rows)
        return
    copy_rows(conn, qualified_table, columns, kinds, rows)


def chunks(seq: Sequence[Any] | Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in seq:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
