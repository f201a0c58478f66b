"""Bench point: importing a generated ~1M-row firectl export (issue 15), peak RSS under 256 MB.

`python -m bench.export_import` measures it alone. The export (31 days, the most one
`firectl billing export-metrics` call covers) is generated into a scratch folder, then imported
into a scratch archive by a fresh process, whose peak RSS is what a Lambda would need.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.measure import max_rss_bytes, run_json

ROWS = 1_000_000
DAYS = 31
FIRST_DAY = date(2026, 1, 1)
TARGET_RSS = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ExportImportResult:
    rows: int
    file_bytes: int
    seconds: float
    max_rss_bytes: int

    @property
    def holds(self) -> bool:
        return self.max_rss_bytes < TARGET_RSS


def measure_export_import(rows: int = ROWS) -> dict[str, Any]:
    from fwcost.simulator.exports import export_lines

    with tempfile.TemporaryDirectory(prefix="fwcost-bench-export-") as scratch:
        export = Path(scratch) / "export.csv"
        last = FIRST_DAY + timedelta(days=DAYS - 1)
        with export.open("w", newline="") as out:
            out.writelines(export_lines(FIRST_DAY, last, rows // DAYS))
        run = run_json(["-m", "bench.export_import", str(export), str(Path(scratch) / "archive")])
        result = ExportImportResult(
            int(run["rows"]),
            export.stat().st_size,
            float(run["seconds"]),
            int(run["max_rss_bytes"]),
        )
    return asdict(result) | {"holds": result.holds}


def markdown_lines(point: dict[str, Any]) -> list[str]:
    mb = point["max_rss_bytes"] / 1024 / 1024
    return [
        "",
        "## Importing a firectl export",
        "",
        f"{point['rows']:,} rows ({point['file_bytes'] / 1024 / 1024:.0f} MB) imported in "
        f"{point['seconds']:.1f} s, peak RSS {mb:.1f} MB: target < 256 MB "
        f"{'holds' if point['holds'] else '**does not hold**'}.",
    ]


def _import(export: Path, archive_root: Path) -> None:
    """In the fresh process: the import as `fwcost import-metrics` runs it, into a folder."""
    from fwcost.archive import DayArchive, LocalStore
    from fwcost.config import DEFAULT_EXPORT_DIFFERENCE_PERCENT
    from fwcost.imports.importer import ExportFile, ImportDependencies, import_export
    from fwcost.report.pricebook import load_price_book

    deps = ImportDependencies(
        DayArchive(LocalStore(archive_root), "fireworks", "bench"),
        load_price_book(),
        ZoneInfo("America/Los_Angeles"),
        DEFAULT_EXPORT_DIFFERENCE_PERCENT,
    )
    started = time.perf_counter()
    result = import_export(ExportFile(str(export), lambda: export.open("rb")), deps)
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": result.rows, "seconds": seconds, "max_rss_bytes": max_rss_bytes()}))


if __name__ == "__main__":
    if len(sys.argv) == 3:
        _import(Path(sys.argv[1]), Path(sys.argv[2]))
    else:
        print("\n".join(markdown_lines(measure_export_import())))
