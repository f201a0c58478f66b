"""Several accounts from the command line: each run alone, one failing, then the roll-up.

Three simulated accounts on one simulator over loopback, a real folder archive and ledger,
delivery into files: `fwcost run --account ... --account ...` as the README shows it.
"""

import csv
import io
import json
from decimal import Decimal

import pytest

from fwcost.cli import main
from fwcost.simulator import SimulatorConfig, run_simulator

DAY = "2026-11-21"
ROUTING = {
    "version": 1,
    "unknown_teams": "skip",
    "routes": {
        "overall": {
            "email": [{"from": "costs@acme.ai", "to": ["finops@acme.ai"], "attach_csv": True}]
        }
    },
}
ACCOUNTS = [
    {"id": "acme-ai", "name": "Production"},
    {"id": "acme-labs", "name": "Labs", "api_key_env": "LABS_KEY"},
    {"id": "acme-qa", "name": "QA", "api_key_env": "QA_KEY"},
]


@pytest.fixture
def three_accounts(aws):
    import boto3

    boto3.client("sesv2", region_name="us-east-1").create_email_identity(
        EmailIdentity="costs@acme.ai"
    )
    labs = SimulatorConfig(account_id="acme-labs", api_key="fw_labs", keys=12, models=6, seed=11)
    qa = SimulatorConfig(account_id="acme-qa", api_key="fw_qa", keys=8, models=4, seed=5)
    with run_simulator(SimulatorConfig(), more=[labs, qa]) as simulator:
        yield simulator


def environment(simulator, tmp_path, qa_key="fw_qa"):
    """The three accounts' settings, each key in its own variable, and the routing file."""
    routing = tmp_path / "routing.json"
    routing.write_text(json.dumps(ROUTING))
    return {
        "FWCOST_ACCOUNT_ID": "acme-ai",
        "FWCOST_API_KEY": "fw_sim_admin_key",
        "FWCOST_ACCOUNTS": json.dumps(ACCOUNTS),
        "LABS_KEY": "fw_labs",
        "QA_KEY": qa_key,
        "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
        "FWCOST_TIMEZONE": "UTC",
        "FWCOST_ROUTING_FILE": str(routing),
    }


def run(simulator, tmp_path, *accounts, qa_key="fw_qa", extra=()):
    args = ["run", "--date", DAY, "--out", str(tmp_path / "archive"), *extra]
    args += [f"--account={account}" for account in accounts]
    return main(args, environment(simulator, tmp_path, qa_key))


def own_total(tmp_path, account):
    """The total an account's own archived report shows (its report.txt's "Total" line)."""
    report = tmp_path / "archive" / "fireworks" / f"account={account}" / f"dt={DAY}" / "report"
    rows = csv.DictReader(io.StringIO((report / "report.csv").read_text()))
    return sum(Decimal(row["attributed_cost_usd"]) for row in rows)


def test_each_account_runs_alone_and_the_roll_up_adds_their_own_totals_to_the_cent(
    three_accounts, tmp_path, capsys
):
    # When three accounts run, each with its own key
    code = run(three_accounts, tmp_path, "acme-ai", "acme-labs", "acme-qa")

    # Then each archived its day and its own report, and the roll-up went out once
    assert code == 0
    out = capsys.readouterr().out
    rollup = tmp_path / "archive" / "fireworks" / "account=_rollup" / f"dt={DAY}" / "report"
    lines = list(csv.DictReader(io.StringIO((rollup / "report.csv").read_text())))
    for account in ("acme-ai", "acme-labs", "acme-qa"):
        cents = sum(Decimal(r["attributed_cost_usd"]) for r in lines if r["account_id"] == account)
        assert cents == own_total(tmp_path, account) > 0
    total = sum(own_total(tmp_path, a) for a in ("acme-ai", "acme-labs", "acme-qa"))
    assert f"All accounts, {DAY}: ${total:,.2f} (3 accounts)" in out
    text = (rollup / "report.txt").read_text()
    assert f"${own_total(tmp_path, 'acme-labs'):,.2f}" in text
    # a team in several accounts is their sum, split by account
    search = [r for r in lines if r["team"] == "search"]
    assert len(search) == 3
    assert "Production $" in text and "Labs $" in text
    ledger = tmp_path / "archive" / "fireworks" / "ledger" / "account=_rollup" / f"dt={DAY}"
    assert [p.name for p in ledger.rglob("*.json")] == [
        next(p.name for p in (ledger / "audience=overall").iterdir())
    ]

    # And run again, nothing is delivered twice: the roll-up's ledger says it went out
    capsys.readouterr()
    assert run(three_accounts, tmp_path, "acme-ai", "acme-labs", "acme-qa") == 0
    assert out.count("1 delivered") >= 1
    assert "delivery: 0 delivered, 1 already delivered" in capsys.readouterr().out


def test_an_account_whose_key_is_refused_is_named_and_the_others_go_out(
    three_accounts, tmp_path, capsys
):
    # When QA's key is wrong (a 401 from Fireworks)
    code = run(three_accounts, tmp_path, "acme-ai", "acme-labs", "acme-qa", qa_key="fw_wrong")

    # Then the run fails loudly, after the other accounts and the roll-up went out
    assert code == 1
    captured = capsys.readouterr()
    assert "Account acme-qa:\n  failed: " in captured.out
    assert "fw_wrong" not in captured.out + captured.err
    assert "1 account(s) failed: acme-qa" in captured.err
    assert "(2 of 3 accounts)" in captured.out
    rollup = tmp_path / "archive" / "fireworks" / "account=_rollup" / f"dt={DAY}" / "report"
    text = (rollup / "report.txt").read_text()
    assert "NOT IN THESE TOTALS: 1 account whose run failed" in text
    assert "QA: " in text
    assert "fw_wrong" not in text
    slack = json.loads((rollup / "slack.json").read_text())
    assert "QA" in json.dumps(slack) and "2 of 3 accounts" in json.dumps(slack)
    assert not (tmp_path / "archive" / "fireworks" / "account=acme-qa").exists()
    assert own_total(tmp_path, "acme-labs") > 0


def test_one_listed_account_runs_alone_with_its_own_key_and_no_roll_up(
    three_accounts, tmp_path, capsys
):
    assert run(three_accounts, tmp_path, "acme-labs") == 0
    assert own_total(tmp_path, "acme-labs") > 0
    assert not (tmp_path / "archive" / "fireworks" / "account=_rollup").exists()
    assert not (tmp_path / "archive" / "fireworks" / "account=acme-ai").exists()


def test_an_account_not_configured_is_refused_before_anything_runs(
    three_accounts, tmp_path, capsys
):
    assert run(three_accounts, tmp_path, "acme-ai", "acme-nope") == 2
    assert "no account 'acme-nope' is configured" in capsys.readouterr().err
    assert not (tmp_path / "archive").exists()


def test_a_backfill_of_several_accounts_archives_each_and_rolls_nothing_up(
    three_accounts, tmp_path, capsys
):
    args = ["backfill", "--start", "2026-11-19", "--end", DAY, "--out", str(tmp_path / "archive")]
    args += ["--account=acme-ai", "--account=acme-qa"]

    code = main(args, environment(three_accounts, tmp_path))

    assert code == 0
    root = tmp_path / "archive" / "fireworks"
    assert {p.name for p in root.iterdir()} == {"account=acme-ai", "account=acme-qa"}
    assert (root / "account=acme-qa" / "dt=2026-11-19" / "manifest.json").is_file()
    assert capsys.readouterr().out.count("Backfilled 3 days") == 2
