"""The named queries as files: each one's header, its parameters, and the errors people meet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fwcost.queries import Parameter, QueryError, named_queries, named_query, parse_query
from fwcost.queries.local import DuckDbRunner

QUESTIONS = {  # the questions, each a query
    "team_daily_cost",
    "monthly_chargeback",
    "key_trend",
    "weekly_movers",
    "unattributed_share",
}


def test_every_question_has_a_query_that_names_its_account() -> None:
    queries = named_queries()

    assert set(queries) == QUESTIONS
    for query in queries.values():
        # the partition `account` is injected: Athena refuses a query that does not name it
        assert query.parameters[0] is Parameter.ACCOUNT
        assert "WHERE account = ?" in query.sql
        assert query.description.endswith(".")
        # one statement, no terminator: Athena's StartQueryExecution takes a single statement
        body = [line for line in query.sql.splitlines() if not line.startswith("--")]
        assert query.sql.endswith("\n") and ";" not in "".join(body)


CLAUSE = re.compile(r"\b(SELECT|FROM|WHERE|GROUP BY|ORDER BY|HAVING|JOIN|ON|OVER)\b|\?")


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_every_parameter_is_in_a_where_clause(name: str) -> None:
    # Athena: "? parameters can be placed only in the WHERE clause" (parameterized queries)
    body = "\n".join(
        line for line in named_query(name).sql.splitlines() if not line.startswith("--")
    )
    clause = None
    for found in CLAUSE.finditer(body):
        if found[0] == "?":
            assert clause == "WHERE", f"a ? in {clause}"
        else:
            clause = found[1]


def test_values_follow_the_question_marks_with_repeats() -> None:
    movers = named_query("weekly_movers")

    values = movers.values({Parameter.ACCOUNT: "acme-ai", Parameter.WEEK_END: "2026-11-29"})

    week_end = "2026-11-29"
    assert values == ["acme-ai", week_end, week_end, "acme-ai", week_end, week_end]


def test_a_missing_parameter_names_the_option_that_gives_it() -> None:
    trend = named_query("key_trend")

    with pytest.raises(QueryError) as raised:
        trend.values({Parameter.FIRST_DAY: "2026-11-01", Parameter.LAST_DAY: "2026-11-30"})

    assert str(raised.value) == (
        "query key_trend needs account (--account or FWCOST_ACCOUNT_ID),"
        " api_key (--key, an API key's id or name)"
    )


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("team_daily_costs", "no query named 'team_daily_costs': did you mean team_daily_cost?"),
        ("xyzzy", "no query named 'xyzzy': fwcost query --list shows them"),
    ],
)
def test_an_unknown_query_names_the_closest_one(name: str, said: str) -> None:
    with pytest.raises(QueryError, match=re.escape(said)):
        named_query(name)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("SELECT 1\n", "no header"),
        ("-- What.\n-- Parameters: account\nSELECT ? , ?\n", "2 '?' for 1 parameters"),
        ("-- What?\n-- Parameters: account\nSELECT ?\n", "a '?' in a comment"),
    ],
)
def test_a_malformed_file_is_refused(text: str, said: str) -> None:
    with pytest.raises(ValueError, match=re.escape(said)):
        parse_query("broken", text)


def test_an_empty_archive_says_where_it_looked(tmp_path: Path) -> None:
    (tmp_path / "fireworks" / "account=acme-ai" / "dt=2026-11-29").mkdir(parents=True)
    query = named_query("team_daily_cost")

    with pytest.raises(QueryError, match=r"no archived days in .*fireworks \(no account=\*"):
        DuckDbRunner(tmp_path, "fireworks").run(query, ["acme-ai", "2026-11-01", "2026-11-30"])
