"""A month's lines from archived days: added up per line, unattributed spend placed, read safely."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chargeback_days import DAY, local_archive, row, write_day

from fwcost.archive.stores import ArchiveError
from fwcost.chargeback import UNATTRIBUTED, Dimension, Line, LineKind, read_month
from fwcost.report.unattributed import UnattributedSpend

ROW, SPREAD = UnattributedSpend.ROW, UnattributedSpend.SPREAD
NEXT = DAY + timedelta(days=1)


def test_the_same_line_on_several_days_is_one_line_with_its_cents_and_counts_added(tmp_path):
    archive = local_archive(tmp_path)
    write_day(archive, DAY, [row("1.25", prompt_tokens="100", completion_tokens="7")])
    write_day(archive, NEXT, [row("-0.05", prompt_tokens="10", cached_prompt_tokens="4")])

    [line] = read_month(archive, [DAY, NEXT], ROW).lines

    assert line == Line(
        "search", "ranker", "prod", LineKind.SERVERLESS, "key_1", "prod-search-1",
        "accounts/fireworks/models/llama", "", cents=120, prompt_tokens=110,
        cached_prompt_tokens=4, completion_tokens=7,
    )  # fmt: skip


def test_gpu_time_training_and_billed_only_spend_each_name_what_they_bill(tmp_path):
    archive = local_archive(tmp_path)
    write_day(archive, DAY, [
        row("10.00", kind="dedicated", model="base-70b", deployment="dep-1",
            accelerator_seconds="3600", accelerator_type="NVIDIA_H100_80GB"),
        row("5.00", kind="training", model="base-8b", job_id="job-9", accelerator_seconds="60"),
        row("0.50", team="", kind="billed_only", project="", environment="", model="nomic",
            category="Embeddings"),
    ])  # fmt: skip

    lines = read_month(archive, [DAY], ROW).lines

    assert [(line.team, line.kind, line.model, line.deployment, line.cents) for line in lines] == [
        ("search", LineKind.DEDICATED, "base-70b", "dep-1", 1000),
        ("search", LineKind.TRAINING, "base-8b", "job-9", 500),
        (UNATTRIBUTED, LineKind.BILLED_ONLY, "nomic", "Embeddings", 50),
    ]
    assert lines[0].accelerator_seconds == 3600


def test_a_key_renamed_during_the_month_is_a_line_per_name(tmp_path):
    archive = local_archive(tmp_path)
    write_day(archive, DAY, [row("1.00", api_key_name="old name")])
    write_day(archive, NEXT, [row("2.00", api_key_name="new name")])

    lines = read_month(archive, [DAY, NEXT], ROW).lines

    assert {(line.api_key_id, line.api_key_name, line.cents) for line in lines} == {
        ("key_1", "old name", 100),
        ("key_1", "new name", 200),
    }


def month_with_unattributed_spend(tmp_path):
    archive = local_archive(tmp_path)
    write_day(archive, DAY, [
        row("30.00", team="ads"),
        row("10.00", team="search"),
        row("0.01", team="search", project="other"),
        row("2.00", team="", api_key_id="unattributed", api_key_name=""),
        row("1.33", team="", kind="billed_only", model="flux", category="Image Generation"),
    ])  # fmt: skip
    return archive


def test_row_keeps_unattributed_spend_as_a_team_of_its_own_last(tmp_path):
    chargeback = read_month(month_with_unattributed_spend(tmp_path), [DAY], ROW)

    assert chargeback.team_cents == {"ads": 3000, "search": 1001, UNATTRIBUTED: 333}
    assert chargeback.total_cents == 4334
    assert chargeback.policy is ROW
    assert '"Unattributed"' in chargeback.policy_sentence


def test_spread_shares_unattributed_spend_by_the_teams_own_spend_to_the_same_total(tmp_path):
    chargeback = read_month(month_with_unattributed_spend(tmp_path), [DAY], SPREAD)

    # 333 cents over 3000 : 1001 (running total: 249.69 -> 250, then 333 in all)
    assert chargeback.team_cents == {"ads": 3250, "search": 1084}
    assert chargeback.total_cents == 4334
    assert chargeback.shared_cents("ads") == 250
    [share] = [line for line in chargeback.team_lines("ads") if line.cents == 250]
    assert share == Line("ads", "", "", LineKind.SHARED_UNATTRIBUTED, "", "", "", "", 250)
    assert chargeback.team_lines("ads")[-1] == share  # after the team's own lines
    assert "shared out over the teams" in chargeback.policy_sentence


def test_spread_with_no_team_spend_to_weigh_by_keeps_the_row_and_says_why(tmp_path):
    archive = local_archive(tmp_path)
    write_day(archive, DAY, [row("2.00", team="")])

    chargeback = read_month(archive, [DAY], SPREAD)

    assert chargeback.team_cents == {UNATTRIBUTED: 200}
    assert (chargeback.policy, chargeback.requested) == (ROW, SPREAD)
    assert "no team had spend to share it over" in chargeback.policy_sentence


def test_a_teams_breakdowns_and_share_add_up_to_the_team(tmp_path):
    archive = month_with_unattributed_spend(tmp_path)
    chargeback = read_month(archive, [DAY], SPREAD)

    assert chargeback.breakdown("search", Dimension.PROJECT) == {("ranker",): 1000, ("other",): 1}
    assert chargeback.breakdown("search", Dimension.KEY) == {("key_1", "prod-search-1"): 1001}
    assert chargeback.breakdown("search", Dimension.DEPLOYMENT) == {("serverless", ""): 1001}
    for team, cents in chargeback.team_cents.items():
        for dimension in Dimension:
            breakdown = chargeback.breakdown(team, dimension)
            assert sum(breakdown.values()) + chargeback.shared_cents(team) == cents


@pytest.mark.parametrize("policy", list(UnattributedSpend))
def test_the_accounts_breakdowns_keep_unattributed_spend_in_its_own_groups(tmp_path, policy):
    chargeback = read_month(month_with_unattributed_spend(tmp_path), [DAY], policy)

    assert chargeback.breakdown(None, Dimension.DEPLOYMENT) == {
        ("serverless", ""): 4201,
        ("billed_only", "Image Generation"): 133,
    }
    for dimension in Dimension:
        assert sum(chargeback.breakdown(None, dimension).values()) == chargeback.total_cents


def test_a_day_without_a_manifest_is_refused_by_name(tmp_path):
    archive = local_archive(tmp_path)
    write_day(archive, DAY, [row("1.00")])

    with pytest.raises(ArchiveError, match=r"dt=2026-11-03 has no manifest"):
        read_month(archive, [DAY, NEXT], ROW)


def test_a_csv_that_differs_from_its_manifest_is_refused(tmp_path):
    archive = local_archive(tmp_path)
    write_day(archive, DAY, [row("1.00")])
    csv_path = tmp_path / archive.day_prefix(DAY) / "csv" / "usage.csv"
    csv_path.write_bytes(csv_path.read_bytes().replace(b"1.00", b"9.00"))

    with pytest.raises(ArchiveError, match=r"usage\.csv: its SHA-256 differs from its manifest's"):
        read_month(archive, [DAY], ROW)


def test_the_csv_is_the_object_the_manifest_names_not_a_guessed_path(tmp_path):
    archive = local_archive(tmp_path)
    body = write_day(archive, DAY, [row("1.00")])
    # Moved by the manifest (as a later layout might): the old path holds something else
    moved = f"{archive.day_prefix(DAY)}/csv/moved.csv"
    archive.store.put(moved, body, "text/csv")
    (tmp_path / archive.day_prefix(DAY) / "csv" / "usage.csv").write_bytes(b"not, this\n")
    manifest_path = tmp_path / archive.day_prefix(DAY) / "manifest.json"
    manifest_path.write_text(manifest_path.read_text().replace("csv/usage.csv", "csv/moved.csv"))

    assert read_month(archive, [DAY], ROW).total_cents == 100


@pytest.mark.parametrize(
    ("cost", "problem"),
    [("1.5", "'1.5' is not an amount in dollars"), ("", "'' is not an amount in dollars")],
)
def test_a_cost_cell_that_is_not_cents_is_refused_naming_its_line(tmp_path, cost, problem):
    archive = local_archive(tmp_path)
    write_day(archive, DAY, [row("1.00"), row(cost)])

    with pytest.raises(ArchiveError, match=rf"usage\.csv line 3: {problem}"):
        read_month(archive, [DAY], ROW)


def test_no_days_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least one day"):
        read_month(local_archive(tmp_path), [], ROW)


def test_a_usage_kind_the_day_csv_never_writes_is_refused(tmp_path):
    archive = local_archive(tmp_path)
    write_day(archive, DAY, [row("1.00", kind="shared_unattributed")])

    with pytest.raises(
        ArchiveError, match="usage_kind 'shared_unattributed', not serverless, dedicated"
    ):
        read_month(archive, [DAY], ROW)
