"""`fwcost query` from a terminal, on the demo's archive: the output formats, the defaults, and
each error as one line with its exit status."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from demo_archive import ACCOUNT, DemoArchive, cents

from fwcost.cli import main
from fwcost.queries import named_queries
from fwcost.queries.command import QueryOptions, run_named_query


def query(demo: DemoArchive, *args: str) -> list[str]:
    return ["query", *args, "--out", str(demo.out / "archive"), "--account", ACCOUNT]


def test_list_names_every_query_with_what_it_answers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--list"], {}) == 0

    out = capsys.readouterr().out
    for name, named in named_queries().items():
        assert f"{name}  " in out and named.description in out


def test_the_table_csv_and_json_say_the_same(
    demo: DemoArchive, capsys: pytest.CaptureFixture[str]
) -> None:
    days = ["--from", "2026-11-27", "--to", "2026-11-29"]
    printed = {}
    for form in ("table", "csv", "json"):
        assert main(query(demo, "team_daily_cost", *days, "--format", form), {}) == 0
        printed[form] = capsys.readouterr().out

    rows = list(csv.DictReader(io.StringIO(printed["csv"])))
    assert rows == json.loads(printed["json"])
    assert {(r["day"], r["team"]): cents(r["cost_usd"]) for r in rows} == {
        (day.isoformat(), team): team_cents
        for day in (datetime(2026, 11, d, tzinfo=UTC).date() for d in (27, 28, 29))
        for team, team_cents in demo.team_cents(day).items()
    }
    table = printed["table"].splitlines()
    assert table[0].split() == ["day", "team", "cost_usd"]
    assert set(table[1]) == {"-", " "}
    assert table[2].split() == ["2026-11-27", rows[0]["team"], rows[0]["cost_usd"]]
    # money is right-aligned: every amount ends in the same column
    assert len({len(line) for line in table[2:]}) == 1


def test_the_days_default_to_the_month_of_the_last_complete_day(demo: DemoArchive) -> None:
    # At noon UTC on the 30th, the last complete day in Los Angeles is the 29th: November
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    env = {"FWCOST_TIMEZONE": "America/Los_Angeles", "FWCOST_ACCOUNT_ID": ACCOUNT}
    options = QueryOptions(out=demo.out / "archive")

    result = run_named_query("unattributed_share", options, env, now)

    days = [row[0] for row in result.rows]
    assert days[0] == "2026-11-01" and days[-2:] == ["2026-11-29", "all days"]


def test_an_account_with_nothing_archived_prints_no_rows(
    demo: DemoArchive, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["query", "team_daily_cost", "--out", str(demo.out / "archive"), "--month", "2026-11"]

    assert main([*args, "--account", "other-account"], {}) == 0

    assert capsys.readouterr().out.splitlines()[-1] == "(no rows)"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["team_daily_cots"], "no query named 'team_daily_cots': did you mean team_daily_cost?"),
        (["key_trend"], "query key_trend needs api_key (--key, an API key's id or name)"),
        (["team_daily_cost", "--from", "2026-11-29", "--to", "2026-11-01"], "the first day"),
        ([], "which query? Give its name (fwcost query --list shows them)"),
    ],
)
def test_what_cannot_run_is_one_line_and_exit_2(
    demo: DemoArchive, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    assert main(query(demo, *args), {}) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"fwcost: {said}") and err.count("\n") == 1


def test_an_empty_archive_and_no_archive_at_all_are_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "team_daily_cost", "--out", str(tmp_path), "--account", ACCOUNT], {}) == 2
    assert main(["query", "team_daily_cost", "--account", ACCOUNT], {}) == 2

    empty, nowhere = capsys.readouterr().err.splitlines()
    assert empty == (
        f"fwcost: no archived days in {tmp_path}/fireworks (no account=*/dt=*/csv/*.csv): give"
        " --out the archive folder (FWCOST_ARCHIVE_DIR) and check FWCOST_ARCHIVE_PREFIX"
    )
    assert nowhere == (
        "fwcost: nowhere to query: give --out DIR (a local archive) or set"
        " FWCOST_ATHENA_WORKGROUP (the stack's output AthenaWorkGroup)"
    )


def test_without_duckdb_it_says_how_to_install_it(
    demo: DemoArchive, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "duckdb", None)  # as if not installed: import fails

    assert main(query(demo, "team_daily_cost"), {}) == 2

    assert capsys.readouterr().err == (
        "fwcost: a local archive is queried with DuckDB: pip install 'fwcost[query]'\n"
    )
