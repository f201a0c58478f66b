"""`python -m bench.fanout`: several accounts and a long backfill, timed against the simulator.

Not part of `make bench` (minutes: `--accounts 3x1000 --backfill ""` is the short one);
docs/scaling.md quotes one run. It prints a
Markdown table and writes nothing in the repository (its archives live in a temporary folder).

- accounts × rows: N simulated accounts of about R serverless rows a day each, on one
  simulator over loopback. Each account's archive first holds the 30 days a report reads back
  (a backfill, not timed), as after its first morning; then each account's report day is run
  alone through the service (what one Map task of the state machine does, in-process, no
  delivery), then the roll-up from the archive. Timed: each account's run and the roll-up.
- backfill: one account of R rows, 365 days, timed per window (what one RunWindow task does).

Lambda cost: each task's duration × 1 GB (the function's MemorySize) at arm64's price per
GB-second; Step Functions: the state transitions of one execution (docs/scaling.md counts
them, tests/integration/test_state_machine.py checks the count) at the standard price.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from fwcost.config import Settings, load_settings
from fwcost.fanout import RollupDependencies, run_rollup
from fwcost.observability import logger
from fwcost.run_request import AccountOutcome, RollupRequest, backfill_request, report_request
from fwcost.service import run
from fwcost.simulator import SimulatorConfig, run_simulator

DAY = date(2026, 3, 10)  # a Tuesday, as bench's own report day
GB_SECOND_USD = 0.0000133334  # Lambda arm64, us-east-1, first tier
REQUEST_USD = 0.20 / 1_000_000
TRANSITION_USD = 0.025 / 1_000  # Step Functions standard workflows
ACCOUNTS_MAP_CONCURRENCY = 4  # statemachine/fanout.asl.json
WINDOWS_MAP_CONCURRENCY = 2


def daily_transitions(accounts: int) -> int:
    """Plan, choice, map, 2 per account, choice, roll-up, choice, end (no retries)."""
    return 7 + 2 * accounts


def backfill_transitions(windows: int) -> int:
    """Plan, choice, map, 1 per window, end."""
    return 4 + windows


def settings_for(configs: list[SimulatorConfig], base_url: str, folder: Path) -> Settings:
    first, *others = configs
    entries = [
        f'{{"id": "{c.account_id}", "api_key_env": "KEY_{n}"}}' for n, c in enumerate(others)
    ]
    return load_settings(
        {f"KEY_{n}": c.api_key for n, c in enumerate(others)},
        {
            "FWCOST_ACCOUNT_ID": first.account_id,
            "FWCOST_API_KEY": first.api_key,
            "FWCOST_ACCOUNTS": f"[{', '.join(entries)}]",
            "FWCOST_FIREWORKS_BASE_URL": base_url,
            "FWCOST_ARCHIVE_DIR": str(folder),
            "FWCOST_TIMEZONE": "UTC",
        },
    )


def accounts_row(count: int, rows: int) -> str:
    configs = [
        replace(SimulatorConfig.for_rows(rows), account_id=f"acct-{n}", api_key=f"fw_{n}", seed=n)
        for n in range(count)
    ]
    with (
        tempfile.TemporaryDirectory() as folder,
        run_simulator(configs[0], more=configs[1:]) as simulator,
    ):
        settings = settings_for(configs, simulator.base_url, Path(folder))
        history = backfill_request(DAY - timedelta(days=30), DAY - timedelta(days=1))
        for config in configs:  # the archive as after the first morning: not timed
            run(replace(history, account=config.account_id), settings, emit_metrics=False)
        times = []
        for config in configs:
            started = time.perf_counter()
            result = run(
                replace(report_request(DAY), account=config.account_id),
                settings,
                emit_metrics=False,
            )
            times.append(time.perf_counter() - started)
            result.raise_if_failed()
        started = time.perf_counter()
        outcomes = tuple(AccountOutcome(c.account_id) for c in configs)
        deps = RollupDependencies(
            store=_store(Path(folder)), prefix="fireworks", timezone=settings.timezone,
            accounts=settings.accounts,
        )  # fmt: skip
        run_rollup(RollupRequest(DAY, outcomes), deps)
        rollup = time.perf_counter() - started
    waves = math.ceil(count / ACCOUNTS_MAP_CONCURRENCY)
    wall = waves * max(times) + rollup
    seconds = sum(times) + rollup
    lambda_usd = seconds * GB_SECOND_USD + (count + 2) * REQUEST_USD
    states_usd = daily_transitions(count) * TRANSITION_USD
    return (
        f"| {count} × {rows:,} | {sum(times) / count:.2f} s (max {max(times):.2f}) "
        f"| {rollup:.2f} s | {wall:.1f} s | {seconds:.1f} GB-s: ${lambda_usd:.5f} "
        f"| {daily_transitions(count)}: ${states_usd:.5f} |"
    )


def backfill_row(rows: int, days: int) -> str:
    config = replace(SimulatorConfig.for_rows(rows), account_id="acct-0", api_key="fw_0")
    marks: list[float] = []
    with tempfile.TemporaryDirectory() as folder, run_simulator(config) as simulator:
        settings = settings_for([config], simulator.base_url, Path(folder))
        started = time.perf_counter()
        request = backfill_request(DAY - timedelta(days=days - 1), DAY)
        run(
            request,
            settings,
            emit_metrics=False,
            on_window=lambda *_: marks.append(time.perf_counter()),
        )
    durations = [b - a for a, b in zip([started, *marks], marks, strict=False)]
    windows = len(durations)
    waves = math.ceil(windows / WINDOWS_MAP_CONCURRENCY)
    wall = waves * max(durations)
    seconds = sum(durations)
    lambda_usd = seconds * GB_SECOND_USD + (windows + 1) * REQUEST_USD
    states_usd = backfill_transitions(windows) * TRANSITION_USD
    return (
        f"| {days} days × {rows:,} rows | {windows} | {seconds / windows:.2f} s "
        f"(max {max(durations):.2f}) | {seconds:.1f} s | {wall:.1f} s "
        f"| {seconds:.1f} GB-s: ${lambda_usd:.5f} | {backfill_transitions(windows)}: "
        f"${states_usd:.5f} |"
    )


def _store(folder: Path):  # type: ignore[no-untyped-def]
    from fwcost.archive import LocalStore

    return LocalStore(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--accounts", default="3x1000,10x1000,3x10000", help="accounts x rows, comma-separated"
    )
    parser.add_argument("--backfill", default="1000", help="rows a day of the 365-day backfills")
    args = parser.parse_args()
    logger.setLevel("WARNING")  # the table, not the runs' JSON log lines
    print("| accounts × rows a day | one account's run | roll-up | execution wall | Lambda | "
          "Step Functions transitions |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for case in filter(None, args.accounts.split(",")):
        count, rows = map(int, case.split("x"))
        print(accounts_row(count, rows), flush=True)
    print()
    print("| backfill | windows | one window | serial | Map of 2 | Lambda | "
          "Step Functions transitions |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for rows in filter(None, args.backfill.split(",")):
        print(backfill_row(int(rows), 365), flush=True)


if __name__ == "__main__":
    main()
