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

import io
from collections.abc import Iterable, Sequence
from itertools import repeat
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from . import tables as T

STAGE_PREFIX = "_stage_"


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
    """A whole column in COPY text format (the per-kind branch is taken once, not per value)."""
    if kind in ("int", "bigint"):
        return ["\\N" if v is None else str(v) for v in values]
    if kind in T.SCALE:
        s = T.SCALE[kind]
        return ["\\N" if v is None else scaled_to_str(v, s) for v in values]
    if kind == "bool":
        return ["\\N" if v is None else ("t" if v else "f") for v in values]
    if kind == "datetime":
        return ["\\N" if v is None else v + "+00" for v in values]
    if kind == "date":
        return ["\\N" if v is None else v for v in values]
    tr = _ESCAPES
    return ["\\N" if v is None else v.translate(tr) for v in values]


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
    def upsert(self, columns: Sequence[str], rows: list[tuple]) -> None:
        """Insert or update rows (tuples of canonical values in `columns` order) on the natural key.

        `created_at` is kept on update."""
        if not rows:
            return
        updates = [c for c in columns if c not in self.key and c != "created_at"]
        if self.dialect == "sqlite":
            cols = ", ".join(columns)
            ph = ", ".join("?" * len(columns))
            sets = ", ".join(f"{c} = excluded.{c}" for c in updates)
            sql = (f"INSERT INTO {self.qualified} ({cols}) VALUES ({ph}) "
                   f"ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {sets}")
            self.conn.exec_driver_sql(sql, rows)
            return
        stage = self._copy_to_stage(columns, rows)
        cols = ", ".join(f'"{c}"' for c in columns)
        sets = ", ".join(f'"{c}" = excluded."{c}"' for c in updates)
        self.conn.exec_driver_sql(
            f"INSERT INTO {self.qualified} ({cols}) SELECT {cols} FROM {stage} "
            f"ON CONFLICT ON CONSTRAINT uq_{self.table}_key DO UPDATE SET {sets}"
        )
        self.conn.exec_driver_sql(f"DROP TABLE {stage}")

    def insert_new(self, columns: Sequence[str], cols: Sequence[Any], n: int) -> None:
        """Rows whose keys are not in the table yet, given column-wise (`Const` for one value in every row).
        PostgreSQL: COPY straight into the table (no staging, no conflict handling) inside a savepoint, falling
        back to the upsert if another writer inserted one of the keys meanwhile. SQLite: the upsert."""
        if not n:
            return
        if self.dialect == "sqlite":
            self.upsert(columns, list(rows_of(cols, n)))
            return
        import psycopg

        savepoint = self.conn.begin_nested()
        try:
            copy_columns(self.conn, self.qualified, columns, [self.kinds[c] for c in columns], cols, n)
        except psycopg.errors.UniqueViolation:
            savepoint.rollback()
            self.upsert(columns, list(rows_of(cols, n)))
        else:
            savepoint.commit()

    def _copy_to_stage(self, columns: Sequence[str], rows: list[tuple]) -> str:
        stage = f"{STAGE_PREFIX}{self.table}"
        cols = ", ".join(f'"{c}"' for c in columns)
        self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
        self.conn.exec_driver_sql(
            f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {cols} FROM {self.qualified} WITH NO DATA"
        )
        copy_rows(self.conn, stage, columns, [self.kinds[c] for c in columns], rows)
        self.conn.exec_driver_sql(f"ANALYZE {stage}")  # the join plan needs its real size
        return stage

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
        stage = self._copy_to_stage(columns, rows)
        sets = ", ".join(f'"{c}" = s."{c}"' for c in set_columns)
        where = " AND ".join(f't."{c}" = s."{c}"' for c in key_columns)
        self.conn.exec_driver_sql(f"UPDATE {self.qualified} t SET {sets} FROM {stage} s WHERE {where}")
        self.conn.exec_driver_sql(f"DROP TABLE {stage}")


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
    text_cols = [repeat(copy_text(k, c.value), n) if isinstance(c, Const) else copy_column(k, c)
                 for k, c in zip(kinds, cols)]
    names = ", ".join(f'"{c}"' for c in columns)
    raw = conn.connection.dbapi_connection
    join = "\t".join
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        batch: list[str] = []
        for fields in zip(*text_cols):
            batch.append(join(fields))
            if len(batch) == 20000:
                copy.write("\n".join(batch) + "\n")
                batch = []
        if batch:
            copy.write("\n".join(batch) + "\n")


def copy_rows(conn: Any, table: str, columns: Sequence[str], kinds: Sequence[str], rows: list[tuple]) -> None:
    """COPY canonical rows into a PostgreSQL table (text format)."""
    cols = ", ".join(f'"{c}"' for c in columns)
    transposed = list(zip(*rows)) if rows else [() for _ in columns]
    text_cols = [copy_column(k, vals) for k, vals in zip(kinds, transposed)]
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            buf = io.StringIO()
            n = 0
            for line in zip(*text_cols):
                buf.write("\t".join(line))
                buf.write("\n")
                n += 1
                if n % 20000 == 0:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())


def insert_columns(conn: Any, qualified_table: str, columns: Sequence[str], kinds: Sequence[str],
                   cols: Sequence[Any], n: int) -> None:
    """Append column-wise rows (canonical values, `Const` columns): COPY on PostgreSQL, executemany on SQLite."""
    if not n:
        return
    if conn.dialect.name == "sqlite":
        ph = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {qualified_table} ({', '.join(columns)}) VALUES ({ph})", list(rows_of(cols, n)))
        return
    copy_columns(conn, qualified_table, columns, kinds, cols, n)


def insert_rows(conn: Any, qualified_table: str, columns: Sequence[str], kinds: Sequence[str],
                rows: list[tuple]) -> None:
    """Append rows (canonical values) to a table: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        ph = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {qualified_table} ({', '.join(columns)}) VALUES ({ph})", rows)
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
