"""The daily job cut into stages, each run on a recorded day's bytes.

parse      the raw bodies → JSON documents (fwcost's decode_json: money as Decimal)
normalize  documents → typed records (fwcost.fireworks.parse) → the day's DayUsage
attribute  aggregate and attribute: dollars per row and per group (attribute_day)
render     summary against 30 archived days, then HTML, text and Slack, overall and per team
           (each team's report carries its own CSV slice)
csv        the archive's normalized CSV of the day
archive    raw bodies, CSV, attribution, manifest and reports written to a local folder
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.recording import Recording
from fwcost import __version__
from fwcost.archive import DayArchive, LocalStore, usage_csv
from fwcost.dates import day_bounds
from fwcost.delivery import OutgoingReport
from fwcost.fireworks.parse import (
    ReportWindow,
    decode_json,
    parse_dedicated,
    parse_serverless,
    parse_summary,
    parse_training,
    parse_usage_costs,
)
from fwcost.model import DayUsage, KeyCost
from fwcost.pipeline import HISTORY_DAYS
from fwcost.publishing import outgoing_reports, report_files
from fwcost.report.attribution import AttributedDay, HistoryDay, attribute_day
from fwcost.report.pricebook import load_price_book
from fwcost.report.summary import ReportContext, summarize

STAGES = ("parse", "normalize", "attribute", "render", "csv", "archive")
PREFIX = "fireworks"
REPORT_DAY = date(2026, 3, 10)  # a Tuesday: a full weekday of traffic


@dataclass(slots=True)
class DayState:
    """What each stage hands the next."""

    documents: list[dict[str, Any]] | None = None
    usage: DayUsage | None = None
    attribution: AttributedDay | None = None
    history: dict[date, HistoryDay] | None = None
    reports: list[OutgoingReport] | None = None
    csv_body: bytes | None = None


def floor(recording: Recording, archive_root: Path) -> list[Any]:
    """The physical floor: plain json.loads of the same bodies, and of the archived days'
    attribution.json the daily job reads back (read from the archive folder), nothing else."""
    documents = [json.loads(response.body) for response in recording.raw]
    history = sorted(archive_root.glob("**/dt=*/attribution.json"))
    return documents + [json.loads(path.read_bytes()) for path in history]


def stage_functions(
    recording: Recording, state: DayState, archive_root: Path
) -> dict[str, Callable[[], object]]:
    """Each stage as a no-argument callable that reads its input from `state`."""
    prices = load_price_book()
    archives = iter(range(1_000_000))

    def parse() -> list[dict[str, Any]]:
        return [decode_json(response.body) for response in recording.raw]

    def normalize() -> DayUsage:
        assert state.documents is not None
        return _normalize(recording, state.documents)

    def attribute() -> AttributedDay:
        assert state.usage is not None
        return attribute_day(state.usage, prices)

    def render() -> list[OutgoingReport]:
        assert state.usage is not None and state.attribution is not None
        assert state.history is not None
        summary = summarize(state.attribution, state.history, context(recording))
        return outgoing_reports(
            summary,
            state.usage,
            state.attribution,
            account_id=recording.account_id,
            timezone=recording.timezone,
        )

    def csv() -> bytes:
        assert state.usage is not None and state.attribution is not None
        return usage_csv(state.usage, recording.account_id, recording.timezone, state.attribution)

    def archive() -> None:
        assert state.attribution is not None and state.csv_body is not None
        assert state.reports is not None
        target = DayArchive(
            LocalStore(archive_root / str(next(archives))), PREFIX, recording.account_id
        )
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
        "parse": parse,
        "normalize": normalize,
        "attribute": attribute,
        "render": render,
        "csv": csv,
        "archive": archive,
    }


def keep(state: DayState, stage: str, result: object, recording: Recording) -> None:
    """Store a stage's result where the next stage looks for it."""
    if stage == "parse":
        state.documents = result  # type: ignore[assignment]
    elif stage == "normalize":
        state.usage = result  # type: ignore[assignment]
    elif stage == "attribute":
        state.attribution = result  # type: ignore[assignment]
        assert state.attribution is not None
        state.history = {
            day: HistoryDay.of(past) for day, past in history_like(state.attribution).items()
        }
    elif stage == "render":
        state.reports = result  # type: ignore[assignment]
    elif stage == "csv":
        state.csv_body = result  # type: ignore[assignment]


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
    prices = load_price_book()
    usage = _normalize(recording, [decode_json(response.body) for response in recording.raw])
    seed_history(recording, attribute_day(usage, prices), root)


def context(recording: Recording) -> ReportContext:
    return ReportContext(
        account_id=recording.account_id,
        timezone=recording.timezone,
        bounds=day_bounds(recording.day, recording.tz),
        archive_location=f"s3://bench/{PREFIX}/dt={recording.day.isoformat()}/",
        code_version=__version__,
    )


def _normalize(recording: Recording, documents: list[dict[str, Any]]) -> DayUsage:
    window = ReportWindow(recording.day, recording.day, recording.tz)
    usage = DayUsage(recording.day, key_costs=[])
    key_costs: list[KeyCost] = []
    for response, document in zip(recording.raw, documents, strict=True):
        name = response.name
        if name == "billingUsage":
            usage.serverless = parse_serverless(document, window, name)
            usage.dedicated = parse_dedicated(document, window, name)
            usage.training = parse_training(document, window, name)
        elif name == "billing-summary":
            usage.line_items = parse_summary(document, window, name).items
        elif name.startswith("usageCosts-page-"):
            key_costs += parse_usage_costs(document, window, name).rows
        else:
            raise ValueError(f"the recording holds an unexpected response {name!r}")
    usage.key_costs = key_costs
    return usage
