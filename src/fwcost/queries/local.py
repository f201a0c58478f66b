"""Named queries over a local archive, with DuckDB (the optional extra `fwcost[query]`).

DuckDB reads the archive's Hive-style folders as Athena does: `daily_usage` is a view over
`<archive>/<prefix>/account=*/dt=*/csv/*.csv` (the Glue table's storage.location.template;
revisions/ and reports are outside it) with the Glue table's columns and types, and its
partitions `account` and `dt` as text. As Athena's OpenCSVSerde does, an empty text cell reads
as '' rather than NULL, so the queries compare with '' on both engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from fwcost.archive.csv_export import CSV_COLUMNS
from fwcost.queries import NamedQuery, QueryError, QueryResult, sql_literal

if TYPE_CHECKING:
    import duckdb

# The Glue table's column types where they are not string (tests/template/test_named_queries.py
# compares them with template.yaml); day and attributed_cost_usd are strings there too.
NON_TEXT_TYPES = {
    "prompt_tokens": "BIGINT",
    "cached_prompt_tokens": "BIGINT",
    "completion_tokens": "BIGINT",
    "audio_input_seconds": "DOUBLE",
    "accelerator_seconds": "BIGINT",
}
INSTALL_HINT = "pip install 'fwcost[query]'"


# The files the Glue table reads (its storage.location.template), under the archive's prefix.
CSV_FILES = "account=*/dt=*/csv/*.csv"


def view_sql(pattern: str) -> str:
    """`CREATE VIEW daily_usage` over the CSV files matching `pattern`."""
    columns = ", ".join(f"'{c}': '{NON_TEXT_TYPES.get(c, 'VARCHAR')}'" for c in CSV_COLUMNS)
    selected = ", ".join(
        c if c in NON_TEXT_TYPES else f"COALESCE({c}, '') AS {c}" for c in CSV_COLUMNS
    )
    source = (
        f"read_csv({sql_literal(pattern)}, header = true, auto_detect = false,"
        f" columns = {{{columns}}}, hive_partitioning = true,"
        " hive_types = {'account': 'VARCHAR', 'dt': 'VARCHAR'})"
    )
    # Built from the CSV's own column names and a quoted path: nothing a user typed.
    return f"CREATE VIEW daily_usage AS SELECT {selected}, account, dt FROM {source}"  # noqa: S608


class DuckDbRunner:
    """Runs named queries on the CSV files of a local archive, in memory."""

    def __init__(self, archive_dir: Path, prefix: str) -> None:
        self.root = archive_dir / prefix if prefix else archive_dir

    def run(self, query: NamedQuery, values: Sequence[str]) -> QueryResult:
        if not any(self.root.glob(CSV_FILES)):
            raise QueryError(
                f"no archived days in {self.root} (no {CSV_FILES}): give --out the archive"
                " folder (FWCOST_ARCHIVE_DIR) and check FWCOST_ARCHIVE_PREFIX"
            )
        with _connect() as connection:
            connection.execute(view_sql(str(self.root / CSV_FILES)))
            cursor = connection.execute(query.sql, list(values))
            columns = tuple(column[0] for column in cursor.description or ())
            return QueryResult(columns, [tuple(map(_cell, row)) for row in cursor.fetchall()])


def _connect() -> duckdb.DuckDBPyConnection:
    try:
        import duckdb
    except ImportError:
        raise QueryError(f"a local archive is queried with DuckDB: {INSTALL_HINT}") from None
    return duckdb.connect()


def _cell(value: object) -> str:
    """A value as Athena would print it: dates ISO, decimals with their scale, NULL empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, date) else str(value)
