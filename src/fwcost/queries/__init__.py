"""The archive's named queries: what people ask of the archive, one .sql file each.

Each file in this folder is one question, in the SQL that Athena (engine v3, Trino) and DuckDB
both run, over the table `daily_usage` (template.yaml's Glue table; locally a DuckDB view over
the same files, fwcost.queries.local). template.yaml declares each file as an Athena named
query with the same text (tests/template/test_named_queries.py keeps them equal).

A file starts with comment lines: the first says what it answers (`fwcost query --list` shows
it), and one reads `-- Parameters: a, b, ...`: the value of each `?` in the order they appear.
A parameter may repeat (Athena's execution parameters are positional only). Every query names
its account: the partition `account` is injected, so Athena refuses a query without it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib.resources import files


class Parameter(Enum):
    """A value a query asks for, with the `fwcost query` option that gives it."""

    ACCOUNT = "account"
    FIRST_DAY = "first_day"
    LAST_DAY = "last_day"
    WEEK_END = "week_end"
    API_KEY = "api_key"

    @property
    def option(self) -> str:
        return _OPTIONS[self]


_OPTIONS = {
    Parameter.ACCOUNT: "--account or FWCOST_ACCOUNT_ID",
    Parameter.FIRST_DAY: "--from or --month",
    Parameter.LAST_DAY: "--to or --month",
    Parameter.WEEK_END: "--week-end",
    Parameter.API_KEY: "--key, an API key's id or name",
}


class QueryError(Exception):
    """A query that cannot run as asked (the message says what to give instead): exit 2."""


class QueryFailed(QueryError):
    """The engine ran the query and it failed, or did not finish in time: exit 1."""


@dataclass(frozen=True, slots=True)
class NamedQuery:
    name: str  # the file's stem: `fwcost query NAME` and the Athena named query's name
    description: str  # the header's first line: what it answers
    parameters: tuple[Parameter, ...]  # one per `?`, in order
    sql: str  # the whole file, header included (Athena shows the header in its editor)

    def values(self, given: Mapping[Parameter, str]) -> list[str]:
        """The value of each `?` in order; a parameter not given raises QueryError."""
        missing = [p for p in dict.fromkeys(self.parameters) if not given.get(p)]
        if missing:
            wanted = ", ".join(f"{p.value} ({p.option})" for p in missing)
            raise QueryError(f"query {self.name} needs {wanted}")
        return [given[p] for p in self.parameters]


@dataclass(frozen=True, slots=True)
class QueryResult:
    """Column names and rows as text cells, the same whichever engine answered."""

    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]


_PARAMETERS_LINE = re.compile(r"^-- Parameters: (.+)$", re.MULTILINE)


def parse_query(name: str, text: str) -> NamedQuery:
    """A query from its file's text; a malformed header raises ValueError (a bug in the file)."""
    header = [line for line in text.splitlines() if line.startswith("--")]
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    found = _PARAMETERS_LINE.search(text)
    if not header or found is None:
        raise ValueError(f"{name}.sql: no header with a '-- Parameters:' line")
    parameters = tuple(Parameter(word.strip()) for word in found[1].split(","))
    if "?" in "".join(header):
        raise ValueError(f"{name}.sql: a '?' in a comment would read as a parameter")
    if body.count("?") != len(parameters):
        raise ValueError(f"{name}.sql: {body.count('?')} '?' for {len(parameters)} parameters")
    return NamedQuery(name, header[0].removeprefix("--").strip(), parameters, text)


@cache
def named_queries() -> dict[str, NamedQuery]:
    """Every query shipped in this package, by name (alphabetical)."""
    sql_files = sorted(
        (f for f in files(__name__).iterdir() if f.name.endswith(".sql")), key=lambda f: f.name
    )
    return {
        f.name.removesuffix(".sql"): parse_query(f.name.removesuffix(".sql"), f.read_text())
        for f in sql_files
    }


def sql_literal(value: str) -> str:
    """A value as an SQL string literal (quotes doubled): for text built into SQL, and for
    Athena's execution parameters, which Athena writes into the statement as given."""
    return "'" + value.replace("'", "''") + "'"


def named_query(name: str) -> NamedQuery:
    """The query called `name`; an unknown name raises QueryError naming the closest ones."""
    queries = named_queries()
    if name in queries:
        return queries[name]
    close = difflib.get_close_matches(name, queries, n=1)
    hint = f"did you mean {close[0]}?" if close else "fwcost query --list shows them"
    raise QueryError(f"no query named {name!r}: {hint}")
