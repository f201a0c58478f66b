"""`fwcost query` on Athena, against moto's Athena: what is sent, how it waits, what it prints.

moto runs no SQL: it records each execution and answers get_query_results from a queue of
results a test puts there. Here the queued result is what DuckDB answers for the same query on
the demo archive, so the printed output must equal the local run's. What moto cannot show:
that Athena (engine v3) accepts the SQL and the injected partition, the workgroup's enforced
result location, encryption and bytes-scanned cutoff, a FAILED state, or results longer than
one page (moto returns every row in one). The SQL itself is the .sql file that DuckDB runs in
test_named_queries_on_duckdb.py, and the template's named queries are that file
(tests/template/test_named_queries.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from demo_archive import ACCOUNT, DemoArchive
from moto import mock_aws
from moto.athena.models import QueryResults, athena_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api import state_manager

from fwcost.cli import main
from fwcost.queries import Parameter, QueryFailed, QueryResult, named_query
from fwcost.queries.athena import AthenaRunner

REGION = "us-east-1"
WORKGROUP = "fwcost-prod-fwcost"
DATABASE = "fwcost_prod"
ATHENA_ENV = {"FWCOST_ATHENA_WORKGROUP": WORKGROUP, "FWCOST_ATHENA_DATABASE": DATABASE}


@pytest.fixture
def athena() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("athena", region_name=REGION)
        client.create_work_group(Name=WORKGROUP)
        yield client
    state_manager.unset_transition("athena::execution")


def answer_next_query_with(result: QueryResult) -> None:
    """Queue `result` in moto as Athena returns it: a header row, then text cells (no
    VarCharValue for NULL)."""
    header = {"Data": [{"VarCharValue": name} for name in result.columns]}
    rows = [{"Data": [{"VarCharValue": c} if c else {} for c in row]} for row in result.rows]
    info = [{"Name": name, "Type": "varchar"} for name in result.columns]
    backend = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
    backend.query_results_queue.append(QueryResults([header, *rows], info))


def sent(client: Any) -> list[dict[str, object]]:
    ids = client.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    return [client.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]


def test_a_query_on_athena_sends_the_file_its_parameters_workgroup_and_database(
    demo: DemoArchive, athena: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given what DuckDB answers on the demo archive, and Athena primed to answer the same
    args = ["query", "monthly_chargeback", "--account", ACCOUNT, "--month", "2026-11"]
    assert main([*args, "--out", str(demo.out / "archive")], {}) == 0
    local = capsys.readouterr().out
    query = named_query("monthly_chargeback")
    values = ["acme-ai", "2026-11-01", "2026-11-30"]
    answer_next_query_with(demo.runner.run(query, values))

    # When the same query runs with the Athena settings and no local archive
    assert main(args, ATHENA_ENV) == 0

    # Then Athena got the .sql file as shipped, each value a quoted literal, in the workgroup
    # and database of the settings
    [execution] = sent(athena)
    assert execution["Query"] == query.sql
    assert execution["ExecutionParameters"] == ["'acme-ai'", "'2026-11-01'", "'2026-11-30'"]
    assert execution["WorkGroup"] == WORKGROUP
    assert execution["QueryExecutionContext"] == {"Database": DATABASE}
    # and what it printed is what the local run printed
    assert capsys.readouterr().out == local


def test_a_quote_in_a_key_name_stays_inside_its_literal(
    athena: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["query", "key_trend", "--account", ACCOUNT, "--from", "2026-11-01", "--key", "o'brien"]

    assert main([*args, "--to", "2026-11-29"], ATHENA_ENV) == 0

    [execution] = sent(athena)
    assert execution["ExecutionParameters"][-1] == "'o''brien'"
    assert capsys.readouterr().out.splitlines()[-1] == "(no rows)"


def test_it_polls_with_a_doubling_pause_until_the_query_succeeds(athena: Any) -> None:
    # Given an execution that stays queued, then running, for two polls each
    state_manager.set_transition("athena::execution", {"progression": "manual", "times": 2})
    pauses: list[float] = []
    runner = AthenaRunner(athena, WORKGROUP, DATABASE, sleep=pauses.append)
    query = named_query("team_daily_cost")

    result = runner.run(query, query.values(values_for_november()))

    assert pauses == [0.25, 0.5, 1.0]
    assert result == QueryResult((), [])  # moto's answer when no result is queued


def test_a_query_still_running_at_the_deadline_is_stopped_and_fails(athena: Any) -> None:
    state_manager.set_transition("athena::execution", {"progression": "manual", "times": 1000})
    pauses: list[float] = []
    runner = AthenaRunner(
        athena,
        WORKGROUP,
        DATABASE,
        timeout=1.0,
        sleep=pauses.append,
        clock=lambda: sum(pauses),
    )
    query = named_query("team_daily_cost")

    with pytest.raises(QueryFailed, match=r"did not finish in 1 s \(.*, now stopped\)"):
        runner.run(query, query.values(values_for_november()))

    [execution] = sent(athena)
    assert execution["Status"]["State"] == "CANCELLED"
    assert pauses == [0.25, 0.5]


def values_for_november() -> dict[Parameter, str]:
    return {
        Parameter.ACCOUNT: ACCOUNT,
        Parameter.FIRST_DAY: "2026-11-01",
        Parameter.LAST_DAY: "2026-11-30",
    }
