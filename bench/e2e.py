"""One measurement in a fresh process: `python -m bench.e2e MODE RECORDING ARCHIVE_SEED WORKDIR`.

A fresh process per run, because peak RSS (VmHWM) is a high-water mark: what Lambda's memory
setting must cover. The end to end and the floor are measured the same way: a fresh process
each, the archive copied in first, the clock around the work alone (not the interpreter, the
imports or loading the recording). Prints one JSON line: seconds of the work, peak RSS.

MODE pipeline  the daily job on the recorded day: replayed fetch (the real client's decode,
               parse, normalize), attribution, CSV, archive to a folder holding the trailing
               30 days, summary with history, reports rendered and archived; no delivery
   floor       json.loads of the same bodies and of the archived days' attribution.json that
               the daily job reads back (its history)
   baseline    nothing: the imports and the recording loaded, for scale
   seed        (setup, not a measurement) write ARCHIVE_SEED: the trailing 30 days as a daily
               run finds them, copies of the recorded day's attribution

`python -m bench.e2e record ROWS RECORDING` (setup) fetches a day of about ROWS usage rows from
the simulator into RECORDING, in its own process so the benchmark's never holds a large day.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from bench.measure import max_rss_bytes
from bench.recording import Recording, record_day, replay_client
from bench.stages import PREFIX, REPORT_DAY, floor, seed_day
from fwcost.archive import DayArchive, LocalStore
from fwcost.pipeline import Dependencies, refresh_days, report_refreshed_day
from fwcost.report.pricebook import load_price_book


def daily_job(recording: Recording, archive_root: Path) -> None:
    with replay_client(recording) as client:
        deps = Dependencies(
            source=client,
            archive=DayArchive(LocalStore(archive_root), PREFIX, recording.account_id),
            prices=load_price_book(),
            timezone=recording.tz,
        )
        refreshed = refresh_days({recording.day}, deps, rewrite={recording.day})
        result = report_refreshed_day(recording.day, refreshed, deps)
    result.raise_if_failed()


def main(mode: str, recording_path: Path, seed: Path, workdir: Path) -> None:
    recording = Recording.load(recording_path)
    if mode == "seed":
        seed_day(recording, seed)
        return
    archive_root = workdir / "archive"
    shutil.copytree(seed, archive_root)
    started = time.perf_counter()
    if mode == "pipeline":
        daily_job(recording, archive_root)
    elif mode == "floor":
        floor(recording, archive_root)
    elif mode != "baseline":
        raise SystemExit(f"unknown mode {mode!r}: pipeline, floor, baseline or seed")
    seconds = time.perf_counter() - started
    print(json.dumps({"mode": mode, "seconds": seconds, "max_rss_bytes": max_rss_bytes()}))


if __name__ == "__main__":
    if sys.argv[1] == "record":
        day = record_day(int(sys.argv[2]), REPORT_DAY)
        day.save(Path(sys.argv[3]))
        facts = {"usage_rows": day.usage_rows, "body_bytes": day.body_bytes}
        print(json.dumps(facts | {"requests": len(day.raw)}))
    else:
        main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
