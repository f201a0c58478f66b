"""`fwcost query`: a named query on a local archive (DuckDB) or on Athena, printed.

Where it runs: `--out DIR` (a local archive) first, else Athena when FWCOST_ATHENA_WORKGROUP is
set, else FWCOST_ARCHIVE_DIR. The days default to the month of the last complete day (as a
report run counts it: FWCOST_TIMEZONE, FWCOST_SETTLE_HOURS), the week to the seven days ending
on that day.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal, Protocol

from fwcost.config import read_setting
from fwcost.dates import last_complete_day
from fwcost.queries import NamedQuery, Parameter, QueryError, QueryResult, named_queries
from fwcost.queries import named_query as find_query

Format = Literal["table", "csv", "json"]
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class Runner(Protocol):
    def run(self, query: NamedQuery, values: list[str]) -> QueryResult: ...


@dataclass(frozen=True, slots=True)
class QueryOptions:
    """What `fwcost query` was given; None: the default (or the setting)."""

    out: Path | None = None
    account: str | None = None
    month: date | None = None  # its first day
    first_day: date | None = None
    last_day: date | None = None
    week_end: date | None = None
    api_key: str | None = None


def query_list() -> str:
    """Each query's name and what it answers, with the parameters it asks for."""
    width = max(map(len, named_queries()))
    lines = []
    for query in named_queries().values():
        asks = ", ".join(dict.fromkeys(p.value for p in query.parameters))
        lines.append(f"{query.name:<{width}}  {query.description}\n{'':<{width}}  ({asks})")
    return "\n".join(lines) + "\n"


def run_named_query(
    name: str, options: QueryOptions, env: Mapping[str, str], now: datetime
) -> QueryResult:
    query = find_query(name)
    values = query.values(_parameters(options, env, now))
    return _runner(options, env).run(query, values)


def _parameters(
    options: QueryOptions, env: Mapping[str, str], now: datetime
) -> dict[Parameter, str]:
    latest = last_complete_day(
        now, read_setting(env, "FWCOST_TIMEZONE"), read_setting(env, "FWCOST_SETTLE_HOURS")
    )
    month = options.month or latest.replace(day=1)
    month_end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    first_day = options.first_day or month
    last_day = options.last_day or month_end
    if first_day > last_day:
        raise QueryError(f"the first day {first_day} is after the last day {last_day}")
    given = dict(env) | ({"FWCOST_ACCOUNT_ID": options.account} if options.account else {})
    account = read_setting(given, "FWCOST_ACCOUNT_ID")
    return {
        Parameter.ACCOUNT: account or "",
        Parameter.FIRST_DAY: first_day.isoformat(),
        Parameter.LAST_DAY: last_day.isoformat(),
        Parameter.WEEK_END: (options.week_end or latest).isoformat(),
        Parameter.API_KEY: options.api_key or "",
    }


def _runner(options: QueryOptions, env: Mapping[str, str]) -> Runner:
    if options.out is not None:
        return _local(options.out, env)
    if workgroup := read_setting(env, "FWCOST_ATHENA_WORKGROUP"):
        from fwcost.queries.athena import athena_runner

        return athena_runner(workgroup, read_setting(env, "FWCOST_ATHENA_DATABASE"))
    if (archive_dir := read_setting(env, "FWCOST_ARCHIVE_DIR")) is not None:
        return _local(archive_dir, env)
    raise QueryError(
        "nowhere to query: give --out DIR (a local archive) or set FWCOST_ATHENA_WORKGROUP"
        " (the stack's output AthenaWorkGroup)"
    )


def _local(archive_dir: Path, env: Mapping[str, str]) -> Runner:
    from fwcost.queries.local import DuckDbRunner

    return DuckDbRunner(archive_dir, read_setting(env, "FWCOST_ARCHIVE_PREFIX"))


def formatted(result: QueryResult, form: Format) -> str:
    """The result as an aligned table, CSV (header first) or JSON (one object per row, the
    cells as text: decimals keep their exact cents)."""
    if form == "json":
        return (
            json.dumps(
                [dict(zip(result.columns, row, strict=True)) for row in result.rows], indent=2
            )
            + "\n"
        )
    if form == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(result.rows)
        return buffer.getvalue()
    return _table(result)


def _table(result: QueryResult) -> str:
    columns = list(zip(result.columns, *result.rows, strict=True))
    widths = [max(map(len, column)) for column in columns]
    numeric = [all(_NUMBER.match(c) or not c for c in column[1:]) for column in columns]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    rule = tuple("-" * width for width in widths)
    body = [line(row) for row in result.rows] or ["(no rows)"]
    return "\n".join([line(result.columns), line(rule), *body]) + "\n"
