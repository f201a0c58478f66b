"""The daily job cut into its own stages, each run on a recorded day's bytes.

fetch      the replayed requests through the real client: billingUsage decoded row by row into
           typed rows, the summary and per-key costs parsed, the day's DayUsage
attribute  dollars per row and per group (attribute_day)
csv        the archive's normalized CSV of the day
history    the trailing 30 days read back from the archive (pipeline.load_history)
reports    the summary against that history, then HTML, text and Slack, overall and per team
           (each team's report carries its own CSV slice)
archive    raw bodies (scrubbed), CSV, attribution, manifest and reports written to a folder

As in the job, the cyclic collector is paused for the day's bulk work (fetch to archive,
pipeline.without_cycle_collection) and on for the history and the reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.recording import Recording, replay_client
from fwcost import __version__
from fwcost.archive import DayArchive, LocalStore, usage_csv
from fwcost.dates import day_bounds
from fwcost.delivery import OutgoingReport
from fwcost.model import DayUsage
from fwcost.pipeline import HISTORY_DAYS, load_history, without_cycle_collection
from fwcost.publishing import outgoing_reports, report_files
from fwcost.report.attribution import AttributedDay, HistoryDay, attribute_day
from fwcost.report.pricebook import load_price_book
from fwcost.report.summary import ReportContext, summarize

STAGES = ("fetch", "attribute", "csv", "history", "reports", "archive")
PREFIX = "fireworks"
REPORT_DAY = date(2026, 3, 10)  # a Tuesday: a full weekday of traffic


@dataclass(slots=True)
class DayState:
    """What each stage hands the next."""

    usage: DayUsage | None = None
    attribution: AttributedDay | None = None
    csv_body: bytes | None = None
    history: dict[date, HistoryDay] | None = None
    reports: list[OutgoingReport] | None = None


def floor(recording: Recording, archive_root: Path) -> list[Any]:
    """The physical floor: plain json.loads of the same bodies, and of the archived days'
    attribution.json the daily job reads back (read from the archive folder), nothing else."""
    documents = [json.loads(response.body) for response in recording.raw]
    history = sorted(archive_root.glob("**/dt=*/attribution.json"))
    return documents + [json.loads(path.read_bytes()) for path in history]


def stage_functions(
    recording: Recording, state: DayState, seed: Path, archive_root: Path
) -> dict[str, Callable[[], object]]:
    """Each stage as a no-argument callable that reads its input from `state`; `seed` is the
    archive of the trailing days (seed_day) the history is read from."""
    prices = load_price_book()
    archives = iter(range(1_000_000))
    seeded = DayArchive(LocalStore(seed), PREFIX, recording.account_id)

    def fetch() -> DayUsage:
        with without_cycle_collection(), replay_client(recording, keep=True) as client:
            return client.fetch_window(recording.day, recording.day, recording.tz).days[
                recording.day
            ]

    def attribute() -> AttributedDay:
        assert state.usage is not None
        with without_cycle_collection():
            return attribute_day(state.usage, prices)

    def csv() -> bytes:
        assert state.usage is not None and state.attribution is not None
        with without_cycle_collection():
            return usage_csv(
                state.usage, recording.account_id, recording.timezone, state.attribution
            )

    def history() -> dict[date, HistoryDay]:
        return load_history(recording.day, seeded, seeded.complete_days(), {})

    def reports() -> list[OutgoingReport]:
        assert state.usage is not None and state.attribution is not None
        assert state.history is not None
        summary = summarize(state.attribution, state.history, context(recording))
        return outgoing_reports(
            summary,
            state.usage,
            state.attribution,
            account_id=recording.account_id,
            timezone=recording.timezone,
            csv_body=state.csv_body,  # as the job: the day's CSV is written once
        )

    def archive() -> None:
        assert state.attribution is not None and state.csv_body is not None
        assert state.reports is not None
        target = DayArchive(
            LocalStore(archive_root / str(next(archives))), PREFIX, recording.account_id
        )
        with without_cycle_collection():
            raw = target.write_raw(recording.day, recording.day, recording.raw)
            target.write_day(
                recording.day,
                csv_body=state.csv_body,
                attribution=state.attribution.to_json(),
                requests=raw,
                details={},
            )
        target.write_reports(recording.day, report_files(state.reports))

    return {
        "fetch": fetch,
        "attribute": attribute,
        "csv": csv,
        "history": history,
        "reports": reports,
        "archive": archive,
    }


def keep(state: DayState, stage: str, result: object) -> None:
    """Store a stage's result where the next stage looks for it."""
    if stage == "fetch":
        state.usage = result  # type: ignore[assignment]
    elif stage == "attribute":
        state.attribution = result  # type: ignore[assignment]
    elif stage == "csv":
        state.csv_body = result  # type: ignore[assignment]
    elif stage == "history":
        state.history = result  # type: ignore[assignment]
    elif stage == "reports":
        state.reports = result  # type: ignore[assignment]


def history_like(today: AttributedDay) -> dict[date, AttributedDay]:
    """The trailing days a daily run reads back, as copies of today (same size, same groups)."""
    return {
        today.day - timedelta(days=n): replace(today, day=today.day - timedelta(days=n))
        for n in range(1, HISTORY_DAYS + 1)
    }


def seed_history(recording: Recording, attribution: AttributedDay, root: Path) -> None:
    """An archive holding the trailing days (manifest and attribution), as a daily run finds it."""
    archive = DayArchive(LocalStore(root), PREFIX, recording.account_id)
    for day, past in history_like(attribution).items():
        archive.write_day(day, csv_body=b"", attribution=past.to_json(), requests=[], details={})


def seed_day(recording: Recording, root: Path) -> None:
    """The archive a daily run of the recorded day finds: its trailing days (seed_history)."""
    with replay_client(recording, keep=True) as client:
        usage = client.fetch_window(recording.day, recording.day, recording.tz).days[recording.day]
    seed_history(recording, attribute_day(usage, load_price_book()), root)


def context(recording: Recording) -> ReportContext:
    return ReportContext(
        account_id=recording.account_id,
        timezone=recording.timezone,
        bounds=day_bounds(recording.day, recording.tz),
        archive_location=f"s3://bench/{PREFIX}/dt={recording.day.isoformat()}/",
        code_version=__version__,
    )
