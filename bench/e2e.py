"""One measurement in a fresh process: `python -m bench.e2e MODE RECORDING ARCHIVE_SEED WORKDIR`.

A fresh process per run, because peak RSS (ru_maxrss) is a high-water mark: what Lambda's
memory setting must cover. Prints one JSON line: seconds of the measured work, peak RSS.

MODE pipeline  the daily job on the recorded day: replayed fetch (the real client's decode,
               parse, normalize), attribution, CSV, archive to a folder holding the trailing
               30 days, summary with history, reports rendered and archived; no delivery
   floor       json.loads of the same bodies
   baseline    nothing: the imports and the recording loaded, for scale
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from bench.measure import max_rss_bytes
from bench.recording import Recording, replay_client
from bench.stages import PREFIX, floor
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
    archive_root = workdir / "archive"
    shutil.copytree(seed, archive_root)
    started = time.perf_counter()
    if mode == "pipeline":
        daily_job(recording, archive_root)
    elif mode == "floor":
        floor(recording)
    elif mode != "baseline":
        raise SystemExit(f"unknown mode {mode!r}: pipeline, floor or baseline")
    seconds = time.perf_counter() - started
    print(json.dumps({"mode": mode, "seconds": seconds, "max_rss_bytes": max_rss_bytes()}))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
