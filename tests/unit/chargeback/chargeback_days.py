"""Archived days written by hand, in the day CSV's columns, for the chargeback's unit tests."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from pathlib import Path

from fwcost.archive.csv_export import CSV_COLUMNS
from fwcost.archive.day_archive import DayArchive
from fwcost.archive.stores import LocalStore

DAY = date(2026, 11, 2)


def local_archive(root: Path) -> DayArchive:
    return DayArchive(LocalStore(root), "fireworks", "acme-ai")


def row(cost: str, team: str = "search", kind: str = "serverless", **cells: str) -> dict[str, str]:
    """One day CSV row: a serverless row of team search unless told, every count 0."""
    defaults = {
        "project": "ranker", "environment": "prod", "api_key_id": "key_1",
        "api_key_name": "prod-search-1", "model": "accounts/fireworks/models/llama",
        "prompt_tokens": "0", "cached_prompt_tokens": "0", "completion_tokens": "0",
        "audio_input_seconds": "0", "accelerator_seconds": "0",
    }  # fmt: skip
    if kind != "serverless":
        defaults.update(api_key_id="", api_key_name="")
    return {**defaults, **cells, "team": team, "usage_kind": kind, "attributed_cost_usd": cost}


def write_day(archive: DayArchive, day: date, rows: list[dict[str, str]]) -> bytes:
    """The day as the pipeline archives it: CSV, attribution, then the manifest naming the CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    for cells in rows:
        writer.writerow(
            {"day": day.isoformat(), "timezone": "UTC", "account_id": "acme-ai"} | cells
        )
    body = out.getvalue().encode()
    archive.write_day(
        day,
        csv_body=body,
        attribution={},
        requests=[],
        details={"csv_sha256": hashlib.sha256(body).hexdigest()},
    )
    return body
