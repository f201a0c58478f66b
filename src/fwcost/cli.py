"""`fwcost`: the daily pipeline from a terminal.

    fwcost run [--date D] [--out DIR | --bucket B]      one report day (default: yesterday)
               [--dry-run] [--report-dir DIR]           ... or its preview, archiving nothing
    fwcost run --weekly [--date D]                       the ISO week that ended before D
    fwcost run --monthly [--month 2026-10]               a month's statement
    fwcost backfill --start D --end D [--out DIR | --bucket B]
    fwcost demo [--out DIR] [--accounts 2]               against the in-repo simulator
    fwcost run|backfill --account A --account B ...      several accounts (FWCOST_ACCOUNTS), each
                                                        alone, then a report day's roll-up
    fwcost check [--routing FILE] [--send-test]          is everything a run needs in place?
    fwcost query NAME [--month M] [--out DIR] ...        ask the archive (fwcost query --list)
    fwcost import-metrics FILE... [--out DIR | --bucket B]   firectl billing export-metrics CSVs

Only complete days run: yesterday once FWCOST_SETTLE_HOURS have passed since it ended (until
then the default is the day before); today or a later --date exits 2; a backfill's --end past
the last complete day is cut to it, with a note.

Settings come from FWCOST_* environment variables; the flags below override them.
An error prints one line (what failed, why, what to do); `fwcost --debug ...` adds the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from zoneinfo import ZoneInfo

from fwcost import __version__
from fwcost.config import Budgets, Settings, load_settings
from fwcost.config import accounts_setting as parse_accounts
from fwcost.dates import days_between, last_complete_day, parse_date, windows
from fwcost.fireworks.errors import redact
from fwcost.periods import Cadence, Period
from fwcost.periods.pipeline import period_files
from fwcost.pipeline import RunFailed, RunResult
from fwcost.problems import Problem, problem_for
from fwcost.publishing import report_files
from fwcost.report.cents import money
from fwcost.run_request import (
    BadRequest,
    RunRequest,
    backfill_request,
    ending_before,
    only_complete_days,
    period_request,
    report_request,
)

if TYPE_CHECKING:
    from tqdm import tqdm

    from fwcost.delivery import Senders
    from fwcost.simulator.scenario import DemoScenario

DEMO_TIMEZONE = "America/Los_Angeles"
DEMO_ROUTING = Path(__file__).with_name("routing.example.json")
DEMO_SECOND_ACCOUNT = "acme-labs"  # `fwcost demo --accounts 2`
DEMO_EXPORT_DAYS = 30  # the sample firectl export, just before the days the demo fetches


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = _parser().parse_args(argv)
    environment = dict(os.environ if env is None else env)
    _quiet_lambda_telemetry(verbose=args.verbose)
    try:
        return int(args.command(args, environment))
    except Exception as error:
        if args.debug:
            traceback.print_exception(error)
        problem = problem_for(error) or _unexpected(error, debug=args.debug)
        line = redact(f"fwcost: {problem.sentence}", environment.get("FWCOST_API_KEY", ""))
        print(line, file=sys.stderr)
        return int(problem.exit_code)


def _unexpected(error: Exception, *, debug: bool) -> Problem:
    said = str(error).strip().splitlines()
    return Problem(
        f"unexpected {type(error).__name__}",
        said[0] if said else "",
        "" if debug else "Run with --debug for the traceback",
    )


def _quiet_lambda_telemetry(*, verbose: bool) -> None:
    """A terminal wants the summary below, not Lambda's JSON log lines (metrics: see _execute)."""
    from fwcost.observability import logger

    logger.setLevel("INFO" if verbose else "WARNING")


def _run(args: argparse.Namespace, env: dict[str, str]) -> int:
    settings = load_settings(env, _overrides(args, env))
    now = datetime.now(UTC)
    if args.month and not args.monthly:
        raise BadRequest("--month goes with --monthly")
    if args.weekly or args.monthly:
        cadence = Cadence.WEEKLY if args.weekly else Cadence.MONTHLY
        before = args.date or now.astimezone(settings.timezone).date()
        period = Period.month_of(args.month) if args.month else ending_before(cadence, before)
        request = period_request(period, force=args.force, dry_run=args.dry_run)
    else:
        day = args.date or last_complete_day(now, settings.timezone, settings.settle)
        request = report_request(day, force=args.force, dry_run=args.dry_run)
    report_dir = Path(args.report_dir) if args.report_dir else None
    request = _complete(request, settings, now)
    if len(args.account or ()) > 1:
        return _execute_accounts(request, settings, args.account, report_dir=report_dir)
    return _execute(_one_account(request, args, settings), settings, report_dir=report_dir)


def _backfill(args: argparse.Namespace, env: dict[str, str]) -> int:
    settings = load_settings(env, _overrides(args, env))
    request = _complete(backfill_request(args.start, args.end), settings, datetime.now(UTC))
    if len(args.account or ()) > 1:
        return _execute_accounts(request, settings, args.account)
    return _execute(_one_account(request, args, settings), settings, progress=True)


def _one_account(request: RunRequest, args: argparse.Namespace, settings: Settings) -> RunRequest:
    """A single --account: one of FWCOST_ACCOUNTS runs with its own key (else it is
    FWCOST_ACCOUNT_ID's override, _overrides)."""
    return replace(
        request, account=args.account[0].removeprefix("accounts/") if args.account else None
    )


def _execute_accounts(
    request: RunRequest,
    settings: Settings,
    accounts: Sequence[str],
    *,
    senders: Senders | None = None,
    report_dir: Path | None = None,
) -> int:
    """Each account alone, then the roll-up of a report day; exit 1 when any of it failed.

    With `report_dir`, each account's reports go to accounts/<id>/ and the roll-up's to rollup/.
    """
    from fwcost.service import run_accounts

    ids = list(dict.fromkeys(account.removeprefix("accounts/") for account in accounts))
    for account in ids:
        settings.for_account(account)  # every account named is configured, before any runs
    failed = []

    def on_account(account: str, outcome: RunResult | Exception) -> None:
        print(f"Account {account}:")
        if isinstance(outcome, Exception):
            problem = problem_for(outcome)
            said = problem.sentence if problem else f"{type(outcome).__name__}: {outcome}"
            print(f"  failed: {redact(said, settings.for_account(account).api_key or '')}")
            failed.append(account)
            return
        folder = None if report_dir is None else report_dir / "accounts" / account
        if folder is not None:
            _write_reports(outcome, folder)
        _print_result(outcome, folder)

    rolled = run_accounts(
        request, settings, ids, senders=senders, invocation_id=_run_id(), on_account=on_account
    )
    if rolled is not None:
        result, rollup = rolled
        folder = None if report_dir is None else report_dir / "rollup"
        if folder is not None:
            _write_reports(result, folder)
        print(f"All accounts, {result.start}: {money(result.total_cents)} ({rollup.covered})")
        for line in rollup.failed:
            print(f"  {line.label}: not in the totals, its run failed")
        _print_tail(result, folder)
        try:
            result.raise_if_failed()
        except RunFailed as failure:
            print(f"fwcost: {failure}", file=sys.stderr)
            return 1
    if failed:
        print(f"fwcost: {len(failed)} account(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _complete(request: RunRequest, settings: Settings, now: datetime) -> RunRequest:
    """The request limited to days complete at `now`; a cut backfill says so first."""
    checked = only_complete_days(request, now=now, tz=settings.timezone, settle=settings.settle)
    if checked.note:
        print(f"fwcost: {checked.note}", file=sys.stderr)
    return checked


def _demo(args: argparse.Namespace, env: dict[str, str]) -> int:
    """The daily run against the simulator, its story fixed (fwcost.simulator.scenario): a
    spike, a new and a quiet key, a budget warning, a revised day, unattributed spend."""
    from fwcost.delivery import Senders
    from fwcost.simulator import SimulatorConfig, run_simulator
    from fwcost.simulator.scenario import DemoScenario

    out = Path(args.out).resolve()
    account = SimulatorConfig()
    settings = load_settings(
        {},
        {
            "FWCOST_ACCOUNT_ID": account.account_id,
            "FWCOST_API_KEY": account.api_key,
            "FWCOST_TIMEZONE": args.timezone or DEMO_TIMEZONE,
            "FWCOST_ARCHIVE_DIR": str(out / "archive"),
            "FWCOST_ROUTING_FILE": str(DEMO_ROUTING),
        },
    )
    now = datetime.now(UTC)
    day = args.date or last_complete_day(now, settings.timezone, settings.settle)
    request = _complete(report_request(day, force=True), settings, now)  # delivered every time
    # The week and the month that ended with the report day or before it, from the archive.
    periods = {
        "weekly": ending_before(Cadence.WEEKLY, day + timedelta(days=1)),
        "monthly": ending_before(Cadence.MONTHLY, day + timedelta(days=1)),
    }
    scenario = DemoScenario(day, settings.timezone.key)
    settings = replace(settings, budgets=Budgets(teams=scenario.team_budgets()))
    _seed_demo_archive(scenario, settings)
    _import_demo_export(scenario, settings, out / "exports")
    if args.accounts == 2:
        return _demo_two_accounts(request, settings, scenario, out)
    senders = Senders.to_folder(out / "outbox")
    with run_simulator(scenario.config(late_data_arrived=True)) as simulator:
        print(f"Fireworks simulator on {simulator.base_url}, account {account.account_id}")
        settings = replace(settings, fireworks_base_url=simulator.base_url)
        status = _execute(request, settings, senders=senders, report_dir=out)
        for folder, period in periods.items():
            again = period_request(period, force=True)
            status = max(
                status, _execute(again, settings, senders=senders, report_dir=out / folder)
            )
        return status


def _demo_two_accounts(
    request: RunRequest, settings: Settings, scenario: DemoScenario, out: Path
) -> int:
    """The demo's account and a smaller second one on the same simulator, each run alone,
    then the roll-up: reports in accounts/<id>/ and rollup/, what was sent in outbox/."""
    from fwcost.delivery import Senders
    from fwcost.simulator import SimulatorConfig, run_simulator

    first = scenario.config(late_data_arrived=True)
    second = SimulatorConfig(
        account_id=DEMO_SECOND_ACCOUNT,
        api_key="fw_sim_labs_key",
        keys=12,
        models=6,
        seed=11,
        home_timezone=scenario.timezone,
    )
    listed = [
        {"id": first.account_id, "name": "Acme AI"},
        {"id": second.account_id, "name": "Acme Labs", "api_key_env": "DEMO_LABS_KEY"},
    ]
    settings = replace(
        load_settings(
            {"DEMO_LABS_KEY": second.api_key},
            {
                "FWCOST_ACCOUNT_ID": first.account_id,
                "FWCOST_API_KEY": first.api_key,
                "FWCOST_ACCOUNTS": json.dumps(listed),
                "FWCOST_TIMEZONE": settings.timezone.key,
                "FWCOST_ARCHIVE_DIR": str(out / "archive"),
                "FWCOST_ROUTING_FILE": str(DEMO_ROUTING),
            },
        ),
        budgets=settings.budgets,
    )
    with run_simulator(first, more=[second]) as simulator:
        print(f"Fireworks simulator on {simulator.base_url}, accounts {first.account_id} and "
              f"{second.account_id}")  # fmt: skip
        settings = replace(settings, fireworks_base_url=simulator.base_url)
        return _execute_accounts(
            request,
            settings,
            [first.account_id, second.account_id],
            senders=Senders.to_folder(out / "outbox", by_account=True),
            report_dir=out,
        )


def _seed_demo_archive(scenario: DemoScenario, settings: Settings) -> None:
    """The archive as the earlier days' runs left it: the days a report reads back, the day
    before fetched before its late batch usage arrived (the report run then revises it).
    Every demo run seeds it again, so every run shows the revision. It reaches back to the
    first of the month before the report's, so the week and the month the digest and the
    statement cover come from the billing API, as a deployment's would."""
    from fwcost.service import run
    from fwcost.simulator import run_simulator

    start = _demo_seed_start(scenario.day)
    request = backfill_request(start, scenario.revised_day)
    with run_simulator(scenario.config(late_data_arrived=False)) as early:
        seeding = replace(settings, fireworks_base_url=early.base_url, routing_file=None)
        result = run(request, seeding, invocation_id=_run_id(), emit_metrics=False)
    result.raise_if_failed()
    print(
        f"Archive seeded with {start} to {scenario.revised_day}, as fetched before "
        f"{scenario.revised_day:%a %d %b}'s batch usage arrived"
    )


def _import_metrics(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Each file (path or s3:// URI) into the archive, all or nothing per file (fwcost.imports)."""
    from fwcost.service import run_import

    settings = load_settings(env, _overrides(args, env), needs_api_key=False)
    for result in run_import(args.files, settings):
        print("\n".join(result.lines()))
    return 0


def _import_demo_export(scenario: DemoScenario, settings: Settings, folder: Path) -> None:
    """A firectl export of the 30 days before the seeded ones (which the demo never fetches),
    generated and imported as `fwcost import-metrics` would: archived, marked from export."""
    from fwcost.service import run_import
    from fwcost.simulator.exports import write_export

    last = _demo_seed_start(scenario.day) - timedelta(days=1)
    first = last - timedelta(days=DEMO_EXPORT_DAYS - 1)
    path = write_export(folder / f"firectl-{first}_{last}.csv", first, last, 200, settings.timezone)
    for result in run_import([str(path)], settings):
        print(f"Sample firectl export {path.name}: {result.lines()[0].split(': ', 1)[1]}")
    print(_month_in_archive(last, settings))


def _demo_seed_start(day: date) -> date:
    """The first day the demo fetches from the (simulated) API before the report day: the days
    a report reads back, and the whole month before the report's (for the statement)."""
    from fwcost.pipeline import HISTORY_DAYS

    month_before = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    return min(day - timedelta(days=HISTORY_DAYS), month_before)


def _month_in_archive(last: date, settings: Settings) -> str:
    """The month ending on `last` as the archive holds it: a figure reaching back to days known
    only from the export (days with no manifest count as missing)."""
    from fwcost.archive import DayArchive
    from fwcost.imports.day_export import DaySource
    from fwcost.wiring import archive_store

    archive = DayArchive(
        archive_store(settings, None), settings.archive_prefix, settings.account_id
    )
    cents, sources = 0, dict.fromkeys(DaySource, 0)
    for day in days_between(last.replace(day=1), last):
        manifest = archive.read_manifest(day)
        if manifest is not None and (attribution := archive.read_attribution(day)) is not None:
            cents += int(attribution["total_cents"])
            sources[DaySource.of(manifest)] += 1
    return (
        f"{last:%B %Y} in the archive: {money(cents)} over {sum(sources.values())} days "
        f"({sources[DaySource.EXPORT]} from the firectl export, estimated at list price; "
        f"{sources[DaySource.API]} from the billing API)"
    )


def _check(args: argparse.Namespace, env: dict[str, str]) -> int:
    from fwcost.check import render_report, run_check

    if len(args.account or ()) > 1:
        raise BadRequest("fwcost check takes one --account at a time")
    overrides = _overrides(args, env)
    if args.routing:  # a routing file to try before uploading it to SSM
        overrides |= {"FWCOST_ROUTING_FILE": args.routing, "FWCOST_ROUTING_PARAMETER": ""}
    report = run_check(env, overrides, run_id=_run_id(), send_test=args.send_test)
    print(render_report(report))
    return report.exit_status


def _query(args: argparse.Namespace, env: dict[str, str]) -> int:
    from fwcost.queries import QueryError
    from fwcost.queries.command import QueryOptions, formatted, query_list, run_named_query

    if args.list:
        print(query_list(), end="")
        return 0
    if not args.name:
        raise QueryError("which query? Give its name (fwcost query --list shows them)")
    options = QueryOptions(
        Path(args.out) if args.out else None,
        args.account,
        args.month,
        args.first_day,
        args.last_day,
        args.week_end,
        args.key,
    )
    result = run_named_query(args.name, options, env, datetime.now(UTC))
    print(formatted(result, args.format), end="")
    return 0


def _execute(
    request: RunRequest,
    settings: Settings,
    *,
    progress: bool = False,
    senders: Senders | None = None,
    report_dir: Path | None = None,
) -> int:
    from fwcost.service import run

    bar = _progress_bar(request, settings.timezone, settings.window_days) if progress else None

    def on_window(start: date, end: date) -> None:
        if bar is not None:
            bar.update((end - start).days + 1)

    try:
        # Metrics are Lambda's (EMF lines in its log); a terminal wants the summary below.
        result = run(
            request,
            settings,
            senders=senders,
            invocation_id=_run_id(),
            on_window=on_window,
            emit_metrics=False,
        )
    finally:
        if bar is not None:
            bar.close()
    if report_dir is not None:
        _write_reports(result, report_dir)
    _print_result(result, report_dir)
    try:
        result.raise_if_failed()
    except RunFailed as failure:
        print(f"fwcost: {failure}", file=sys.stderr)
        return 1
    return 0


def _write_reports(result: RunResult, folder: Path) -> None:
    periodic = result.kind in ("weekly", "monthly")
    files = period_files(result.reports) if periodic else report_files(result.reports)
    for name, body in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def _progress_bar(request: RunRequest, tz: ZoneInfo, max_days: int) -> tqdm[NoReturn]:
    from tqdm import tqdm

    total = len(list(days_between(request.start, request.end)))
    cuts = len(windows(request.start, request.end, tz, max_days))
    return tqdm(total=total, unit="day", desc=f"backfill ({cuts} windows)", file=sys.stderr)


def _print_result(result: RunResult, report_dir: Path | None) -> None:
    if result.kind == "report":
        print(f"Report day {result.start}: {money(result.total_cents)}{_bill_note(result)}")
    elif result.kind in ("weekly", "monthly"):
        period = Period.of(Cadence(result.kind), result.start)
        print(f"{period.title} ({result.kind} report): {money(result.total_cents)}")
    else:
        print(f"Backfilled {len(result.archived)} days, {result.start} to {result.end}")
    print(f"  {result.requests} Fireworks requests{_days_note(result)}")
    for restated in result.restatements:
        change = restated.new_total - restated.old_total
        print(f"  {restated.day} revised {change:+,.2f} USD (was {restated.old_total:,.2f})")
    _print_tail(result, report_dir)


def _print_tail(result: RunResult, report_dir: Path | None) -> None:
    """Where it was archived, which reports were written, and what delivery did."""
    if result.dry_run:
        print(f"  archive: nothing written (dry run); a run would write {result.archive_url}")
    else:
        print(f"  archive: {result.archive_url}")
    if report_dir is not None and result.reports:
        teams = len(result.reports) - 1
        more = f" (+ {teams} teams in teams/)" if result.kind == "report" else ""
        print(f"  reports: {report_dir}/report.html, report.txt, slack.json{more}")
    if result.delivery is not None:
        print("  " + result.delivery.summary().replace("\n", "\n  "))
    elif result.kind != "backfill":
        print("  delivery: no routing configured (FWCOST_ROUTING_FILE / FWCOST_ROUTING_PARAMETER)")
    for followup in result.followups:
        print(f"A closed month was restated: its statement, issued again ({followup.start:%B %Y}):")
        _print_result(followup, None)


def _days_note(result: RunResult) -> str:
    if result.kind in ("weekly", "monthly"):
        return f"; {(result.end - result.start).days + 1} archived days read"
    return "" if result.dry_run else f"; {len(result.archived)} days fetched and checked"


def _bill_note(result: RunResult) -> str:
    if result.billed is None:
        return " (no bill from Fireworks: price-book estimate)"
    if result.estimated_cents:
        billed = money(result.total_cents - result.estimated_cents)
        return f" (billed {billed} + {money(result.estimated_cents)} estimated)"
    return ""


def _run_id() -> str:
    return f"cli-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}"


def _overrides(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, str | None]:
    return {
        # A flag for one archive target clears the other's environment variable.
        "FWCOST_ARCHIVE_DIR": args.out or ("" if args.bucket else None),
        "FWCOST_ARCHIVE_BUCKET": args.bucket or ("" if args.out else None),
        "FWCOST_ACCOUNT_ID": _account_override(args.account or [], env),
        "FWCOST_TIMEZONE": args.timezone,
    }


def _account_override(accounts: Sequence[str], env: Mapping[str, str]) -> str | None:
    """One --account replaces FWCOST_ACCOUNT_ID (with FWCOST_API_KEY's key), as it always did,
    unless FWCOST_ACCOUNTS lists it: then it runs with its own key (_one_account). Several
    --account flags name listed accounts, and override nothing."""
    if len(accounts) != 1:
        return None
    try:
        listed = {account.id for account in parse_accounts(env.get("FWCOST_ACCOUNTS") or "[]")}
    except ValueError:
        listed = set()  # load_settings says what is wrong with it
    return None if accounts[0].removeprefix("accounts/") in listed else accounts[0]


def _date_arg(text: str) -> date:
    try:
        return parse_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _month_arg(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").replace(tzinfo=UTC).date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month such as 2026-11") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fwcost", description="Daily Fireworks AI cost reports.")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the JSON log lines")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an error")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def with_target(command: argparse.ArgumentParser) -> None:
        target = command.add_mutually_exclusive_group()
        target.add_argument("--out", help="archive into this local folder (FWCOST_ARCHIVE_DIR)")
        target.add_argument("--bucket", help="archive into this S3 bucket (FWCOST_ARCHIVE_BUCKET)")
        command.add_argument(
            "--account",
            action="append",
            help="Fireworks account id (FWCOST_ACCOUNT_ID, or one of FWCOST_ACCOUNTS); "
            "repeat it to run several, each alone, then their roll-up",
        )
        command.add_argument("--timezone", help="IANA timezone of report days (FWCOST_TIMEZONE)")

    run = commands.add_parser(
        "run", help="report one day (default: the last complete day), a week or a month"
    )
    run.add_argument(
        "--date",
        type=_date_arg,
        help="report day, YYYY-MM-DD (a complete day); with --weekly, the ISO week (Monday to "
        "Sunday) that ended before it (default: today's, the week just ended)",
    )
    cadence = run.add_mutually_exclusive_group()
    cadence.add_argument(
        "--weekly", action="store_true", help="the weekly digest, overall and per team"
    )
    cadence.add_argument(
        "--monthly",
        action="store_true",
        help="the month-end statement (default: last month; --month for another)",
    )
    run.add_argument("--month", type=_month_arg, help="with --monthly: the month, YYYY-MM")
    run.add_argument("--force", action="store_true", help="deliver again even if already delivered")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="fetch and render, deliver nowhere, write nothing into the archive",
    )
    run.add_argument(
        "--report-dir", help="also write the rendered reports here (a dry run's preview)"
    )
    with_target(run)
    run.set_defaults(command=_run)

    backfill = commands.add_parser("backfill", help="archive a range of days")
    backfill.add_argument("--start", type=_date_arg, required=True, help="first day, YYYY-MM-DD")
    backfill.add_argument(
        "--end", type=_date_arg, required=True, help="last day, YYYY-MM-DD (cut to complete days)"
    )
    with_target(backfill)
    backfill.set_defaults(command=_backfill)

    demo = commands.add_parser("demo", help="run against the in-repo simulator, no credentials")
    demo.add_argument("--out", default="demo-output", help="folder for the report and archive")
    demo.add_argument("--date", type=_date_arg, help="report day (default: the last complete day)")
    demo.add_argument("--timezone", help=f"report timezone (default {DEMO_TIMEZONE})")
    demo.add_argument(
        "--accounts",
        type=int,
        choices=(1, 2),
        default=1,
        help="2: a second simulated account too, each run alone, then their roll-up "
        "(reports in accounts/<id>/ and rollup/)",
    )
    demo.set_defaults(command=_demo)

    imports = commands.add_parser(
        "import-metrics", help="import `firectl billing export-metrics` CSV files"
    )
    imports.add_argument("files", nargs="+", metavar="FILE", help="a CSV path or s3:// URI")
    with_target(imports)
    imports.set_defaults(command=_import_metrics)

    check = commands.add_parser("check", help="check settings, credentials and destinations")
    check.add_argument(
        "--routing",
        help="check this routing file (instead of FWCOST_ROUTING_FILE / FWCOST_ROUTING_PARAMETER)",
    )
    check.add_argument(
        "--send-test",
        action="store_true",
        help="send one message marked TEST to every destination (not recorded in the ledger)",
    )
    with_target(check)
    check.set_defaults(command=_check)

    query = commands.add_parser(
        "query", help="ask the archive a named question (DuckDB on a local archive, or Athena)"
    )
    query.add_argument("name", nargs="?", help="the query (--list shows them)")
    query.add_argument("--list", action="store_true", help="list the queries and what they answer")
    query.add_argument(
        "--out",
        help="query this local archive folder (FWCOST_ARCHIVE_DIR) with DuckDB; without it, "
        "Athena when FWCOST_ATHENA_WORKGROUP is set",
    )
    query.add_argument("--account", help="Fireworks account id (FWCOST_ACCOUNT_ID)")
    query.add_argument(
        "--month", type=_month_arg, help="YYYY-MM (default: the month of the last complete day)"
    )
    query.add_argument("--from", dest="first_day", type=_date_arg, help="first day (not --month's)")
    query.add_argument("--to", dest="last_day", type=_date_arg, help="last day (not --month's)")
    query.add_argument(
        "--week-end",
        type=_date_arg,
        help="weekly_movers: last day of the week (default: the last complete day)",
    )
    query.add_argument("--key", help="key_trend: the API key's id or name")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.set_defaults(command=_query)
    return parser


if __name__ == "__main__":
    sys.exit(main())
