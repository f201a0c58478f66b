"""The import use case: an export file → validated, per-day sums → the archive, all or nothing.

One streamed pass reads the file: its bytes are hashed and spooled to a temporary file while
the csv module reads them (fwcost.imports.export_csv), so memory holds the day's groups, not
the rows. Only when every row is valid is anything written, in this order:

    {archive}/imports/sha256=<hex>/export.csv      the file as received, byte for byte
    {archive}/dt=YYYY-MM-DD/export.json            the day's sums per export file (day_export)
    {archive}/dt=YYYY-MM-DD/csv/usage.csv, attribution.json, manifest.json
                                                   a day the API gave no usage for, as a run
                                                   archives one, its manifest's "source" "export"
                                                   (balanced to the day's archived bill if any)
    {archive}/imports/sha256=<hex>/manifest.json   written last: the file is imported

The same content imported again finds its manifest and changes nothing. A day the API already
gave keeps the API's figures; the export's differing quantities (over
FWCOST_EXPORT_DIFFERENCE_PERCENT) are reported here and by the day's report when re-rendered.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from fwcost.archive import DayArchive, usage_csv
from fwcost.fireworks.parse import ReportWindow, decode_json, parse_summary
from fwcost.imports.day_export import (
    BILLED_EXPORT_GAP,
    DaySource,
    Difference,
    ExportFileDay,
    add_file,
    csv_quantities,
    differences,
    export_usage,
    file_day,
    merged,
    record_json,
    usage_quantities,
)
from fwcost.imports.export_csv import ExportSummary, read_export
from fwcost.model import LineItem
from fwcost.pipeline import FreshDay, manifest_details
from fwcost.report.attribution import attribute_day
from fwcost.report.cents import money
from fwcost.report.pricebook import PriceBook

IMPORT_SCHEMA = "fwcost.import/1"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class ExportFile:
    """An export to import: its name as given (a path, an s3:// URI) and how to read its bytes."""

    name: str
    open: Callable[[], AbstractContextManager[IO[bytes]]]


@dataclass(frozen=True, slots=True)
class ImportDependencies:
    archive: DayArchive
    prices: PriceBook
    timezone: ZoneInfo
    difference_percent: Decimal


@dataclass(frozen=True, slots=True)
class ImportedDay:
    day: date
    source: DaySource  # whose figures the archive keeps for the day
    requests: int
    total_cents: int = 0  # the day's total, for a day archived from exports
    billed: bool = False  # balanced to the day's archived bill, not estimated
    differences: tuple[Difference, ...] = ()  # export against the API, over the threshold


@dataclass(slots=True)
class ImportResult:
    name: str
    sha256: str
    rows: int
    already_imported_at: str | None = None  # the same content was imported then: nothing changed
    days: list[ImportedDay] = field(default_factory=list)
    archived_as: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "rows": self.rows,
            "already_imported_at": self.already_imported_at,
            "archived_as": self.archived_as,
            "days": {
                d.day.isoformat(): {
                    "source": d.source.value,
                    "requests": d.requests,
                    "differences": [x.to_json() for x in d.differences],
                }
                for d in self.days
            },
        }

    def lines(self) -> list[str]:
        """What a person is told: the file, then a line per day."""
        if self.already_imported_at is not None:
            return [
                f"{self.name}: already imported at {self.already_imported_at} "
                f"(sha256 {self.sha256[:12]}): nothing changed"
            ]
        lines = [
            f"{self.name}: {self.rows:,} rows over {len(self.days)} days, archived as {self.archived_as}"
        ]
        for d in self.days:
            if d.source is DaySource.EXPORT:
                how = "balanced to the archived bill" if d.billed else "estimated at list price"
                lines.append(f"  {d.day}: from export, {money(d.total_cents)} {how}")
            elif d.differences:
                said = "; ".join(x.text for x in d.differences)
                lines.append(f"  {d.day}: the API's figures kept; the export differs: {said}")
            else:
                lines.append(f"  {d.day}: the API's figures kept; the export agrees")
        return lines


def import_export(export: ExportFile, deps: ImportDependencies) -> ImportResult:
    with tempfile.TemporaryDirectory(prefix="fwcost-import-") as folder:
        spool = Path(folder) / "export.csv"
        summary, sha256 = _read(export, spool, deps.timezone)
        archive = deps.archive
        manifest_key = archive.import_key(sha256, "manifest.json")
        if (earlier := archive.read_json(manifest_key)) is not None:
            return ImportResult(
                export.name, sha256, summary.rows, already_imported_at=earlier["imported_at"]
            )
        copy = archive.store.put_file(
            archive.import_key(sha256, "export.csv"), spool, sha256, "text/csv; charset=utf-8"
        )
    result = ImportResult(export.name, sha256, summary.rows, archived_as=copy.key)
    for day, export_day in sorted(summary.days.items()):
        requests = sum(group.requests for group in export_day.groups.values())
        new = file_day(sha256, export.name, export_day)
        files = add_file(archive.read_json(archive.export_key(day)), day, new)
        archive.store.put(archive.export_key(day), _json(record_json(day, files)), JSON)
        result.days.append(_archive_day(day, files, requests, deps))
    document = {
        "schema": IMPORT_SCHEMA,
        "account_id": archive.account_id,
        "name": export.name,
        "sha256": sha256,
        "size": copy.size,
        "object": copy.key,
        "version_id": copy.version_id,
        "columns": summary.columns,
        "rows": summary.rows,
        "timezone": deps.timezone.key,
        "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "days": result.as_dict()["days"],
    }
    archive.store.put(manifest_key, _json(document), JSON)
    return result


def _read(export: ExportFile, spool: Path, tz: ZoneInfo) -> tuple[ExportSummary, str]:
    """Validate and sum the export in one pass, spooling its bytes; (summary, SHA-256 hex)."""
    with export.open() as source, spool.open("wb") as copy:
        tee = _Tee(source, copy)
        text = io.TextIOWrapper(io.BufferedReader(tee), encoding="utf-8-sig", newline="")
        return read_export(text, export.name, tz), tee.sha256.hexdigest()


class _Tee(io.RawIOBase):
    """Reads a stream, hashing and copying every byte it passes on."""

    def __init__(self, source: IO[bytes], copy: IO[bytes]) -> None:
        self._source = source
        self._copy = copy
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._source.read(len(buffer))
        size = len(chunk)
        buffer[:size] = chunk
        self.sha256.update(chunk)
        self._copy.write(chunk)
        return size


def _archive_day(
    day: date, files: list[ExportFileDay], requests: int, deps: ImportDependencies
) -> ImportedDay:
    """Archive a day the API gave no usage for as a run would; the API's days keep their figures.

    A day the API billed but gave no usage rows for (usage older than billingUsage serves) gets
    the export's usage balanced to that bill, as a run balances its own."""
    archive = deps.archive
    previous = archive.read_manifest(day)
    built = export_usage(day, merged(files))
    bill = _archived_bill(previous, day, deps)
    if previous is not None and DaySource.of(previous) is DaySource.API and bill is None:
        api_csv = archive.store.get(f"{archive.day_prefix(day)}/csv/usage.csv") or b""
        found = differences(
            csv_quantities(api_csv), usage_quantities(built.usage), deps.difference_percent
        )
        return ImportedDay(day, DaySource.API, requests, differences=tuple(found))
    if bill is not None:
        built.usage.line_items, built.usage.has_summary = bill.items, True
        built.usage.gaps = [BILLED_EXPORT_GAP]
    attribution = attribute_day(built.usage, deps.prices)
    csv_body = usage_csv(built.usage, archive.account_id, deps.timezone.key, attribution)
    digest = hashlib.sha256(csv_body).hexdigest()
    if previous is not None and previous.get("csv_sha256") != digest:
        archive.keep_revision(day, previous)
    details = manifest_details(FreshDay(built.usage, attribution, csv_body), deps.timezone, digest)
    details |= {"source": DaySource.EXPORT.value, "exports": [f.sha256 for f in files]}
    if bill is not None:
        details["billed_from"] = bill.requests
    archive.write_day(
        day, csv_body=csv_body, attribution=attribution.to_json(), requests=[], details=details
    )
    return ImportedDay(
        day, DaySource.EXPORT, requests, attribution.total_cents, billed=bill is not None
    )


@dataclass(frozen=True, slots=True)
class _Bill:
    items: list[LineItem]
    requests: list[dict[str, Any]]  # the manifest entries of the API's responses it came from


def _archived_bill(
    manifest: dict[str, Any] | None, day: date, deps: ImportDependencies
) -> _Bill | None:
    """The day's line items from its archived billing/summary, for a day the API billed but
    gave no usage for (or an export's day already balanced to it); None otherwise."""
    if manifest is None or not manifest.get("has_summary"):
        return None
    if DaySource.of(manifest) is DaySource.EXPORT:
        requests = list(manifest.get("billed_from", []))
    elif any(
        manifest.get("rows", {}).get(kind) for kind in ("serverless", "dedicated", "training")
    ):
        return None  # the API's usage stands
    else:
        requests = list(manifest.get("requests", []))
    key = next((r.get("object") for r in requests if r.get("name") == "billing-summary"), None)
    window = re.search(r"/raw/(\d{4}-\d\d-\d\d)_(\d{4}-\d\d-\d\d)/", str(key))
    body = deps.archive.store.get(str(key)) if window else None
    if body is None or window is None:
        return None
    first, last = (date.fromisoformat(text) for text in window.groups())
    lines = parse_summary(decode_json(body), ReportWindow(first, last, deps.timezone), str(key))
    items = [item for item in lines.items if item.day == day]
    return _Bill(items, requests) if items else None


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, indent=2).encode() + b"\n"
