"""Named queries on Athena: the stack's workgroup and Glue database (template.yaml).

The query text is the .sql file as shipped (the same as the stack's named query); its `?` are
filled by Athena's execution parameters, which Athena writes into the statement as given, so
each value goes as a quoted SQL string literal. The workgroup enforces the result location,
its encryption and the bytes-scanned cutoff, so the request names none of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from fwcost.queries import NamedQuery, QueryFailed, QueryResult, sql_literal

FIRST_POLL_SECONDS = 0.25
MAX_POLL_SECONDS = 5.0
DEFAULT_TIMEOUT_SECONDS = 600.0  # a named query over years of days takes tens of seconds
_FINISHED = {"SUCCEEDED", "FAILED", "CANCELLED"}


class AthenaClient(Protocol):
    """What the runner uses of boto3's Athena client."""

    def start_query_execution(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def get_query_execution(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def stop_query_execution(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def get_paginator(self, operation_name: str) -> Any: ...


class AthenaRunner:
    def __init__(
        self,
        client: AthenaClient,
        workgroup: str,
        database: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.workgroup = workgroup
        self.database = database
        self._timeout = timeout
        self._sleep = sleep
        self._clock = clock

    def run(self, query: NamedQuery, values: Sequence[str]) -> QueryResult:
        started = self._client.start_query_execution(
            QueryString=query.sql,
            QueryExecutionContext={"Database": self.database},
            WorkGroup=self.workgroup,
            ExecutionParameters=[sql_literal(value) for value in values],
        )
        execution_id = str(started["QueryExecutionId"])
        self._wait(query.name, execution_id)
        return self._results(execution_id)

    def _wait(self, name: str, execution_id: str) -> None:
        """Poll until the query finishes, backing off from a quarter second to five seconds."""
        deadline = self._clock() + self._timeout
        pause = FIRST_POLL_SECONDS
        while True:
            execution = self._client.get_query_execution(QueryExecutionId=execution_id)
            status = execution["QueryExecution"]["Status"]
            if status["State"] == "SUCCEEDED":
                return
            if status["State"] in _FINISHED:
                reason = status.get("StateChangeReason", "no reason given")
                raise QueryFailed(
                    f"Athena query {name} {status['State'].lower()} ({execution_id}): {reason}"
                )
            if self._clock() + pause > deadline:
                self._client.stop_query_execution(QueryExecutionId=execution_id)
                raise QueryFailed(
                    f"Athena query {name} did not finish in {self._timeout:.0f} s"
                    f" ({execution_id}, now stopped): narrow the days asked for"
                )
            self._sleep(pause)
            pause = min(pause * 2, MAX_POLL_SECONDS)

    def _results(self, execution_id: str) -> QueryResult:
        pages = self._client.get_paginator("get_query_results").paginate(
            QueryExecutionId=execution_id
        )
        columns: tuple[str, ...] = ()
        rows: list[tuple[str, ...]] = []
        for number, page in enumerate(pages):
            result_set = page["ResultSet"]
            if number == 0:
                info = result_set["ResultSetMetadata"]["ColumnInfo"]
                columns = tuple(column["Name"] for column in info)
            # A SELECT's first row is its header, on the first page only.
            rows.extend(_cells(result_set["Rows"][1:] if number == 0 else result_set["Rows"]))
        return QueryResult(columns, rows)


def _cells(rows: Sequence[Mapping[str, Any]]) -> Iterator[tuple[str, ...]]:
    """Each row's cells as text; Athena leaves VarCharValue out for NULL."""
    for row in rows:
        yield tuple(str(cell.get("VarCharValue", "")) for cell in row["Data"])


def athena_runner(workgroup: str, database: str) -> AthenaRunner:
    """A runner on the default AWS session's Athena client (region, credentials from the
    environment or profile, as for the rest of the CLI)."""
    import boto3

    return AthenaRunner(boto3.session.Session().client("athena"), workgroup, database)
