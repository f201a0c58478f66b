"""`python -m bench [--scales 1000,10000,100000] [--quick]`: measure, print, write results."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from bench.artifact import artifact_sizes
from bench.coldstart import import_time
from bench.export_import import markdown_lines, measure_export_import
from bench.measure import REPO_ROOT, best_of, run_json, traced_peak
from bench.recording import Recording, record_day
from bench.report import ScaleResult, StageResult, markdown
from bench.stages import STAGES, DayState, floor, keep, seed_history, stage_functions
from bench.traffic import measure_traffic

REPORT_DAY = date(2026, 3, 10)  # a Tuesday: a full weekday of traffic
# A run writes here (untracked); `make bench-record` writes the tracked bench/results/ instead,
# whose figures the README states (tests/unit/bench/test_readme_figures.py).
RESULTS = REPO_ROOT / "bench" / "out"


def repeats(rows: int, quick: bool) -> int:
    """Best of N: more runs where a run is cheap; the 100k day alone takes seconds per run."""
    if quick:
        return 1
    return 7 if rows <= 1_000 else 5 if rows <= 10_000 else 3


def measure_scale(rows: int, workdir: Path, quick: bool) -> ScaleResult:
    repeat = repeats(rows, quick)
    started = time.perf_counter()
    recording = record_day(rows, REPORT_DAY)
    record_seconds = time.perf_counter() - started
    recording_path = workdir / f"recording-{rows}.pkl"
    recording.save(recording_path)

    floor_seconds, _ = best_of(repeat, lambda: floor(recording))
    floor_peak = traced_peak(lambda: floor(recording))
    stages, state = _stages(recording, workdir / f"stages-{rows}", repeat)

    seed = workdir / f"seed-{rows}"
    assert state.attribution is not None
    seed_history(recording, state.attribution, seed)
    del state

    def fresh(mode: str, run: int) -> dict[str, Any]:
        target = workdir / f"{mode}-{rows}-{run}"
        return run_json(["-m", "bench.e2e", mode, str(recording_path), str(seed), str(target)])

    pipeline_runs = [fresh("pipeline", run) for run in range(repeat)]
    return ScaleResult(
        rows=rows,
        usage_rows=recording.usage_rows,
        body_bytes=recording.body_bytes,
        requests=len(recording.raw),
        record_seconds=record_seconds,
        repeat=repeat,
        stages=stages,
        floor_seconds=floor_seconds,
        floor_peak_bytes=floor_peak,
        floor_rss_bytes=int(fresh("floor", 0)["max_rss_bytes"]),
        baseline_rss_bytes=int(fresh("baseline", 0)["max_rss_bytes"]),
        e2e_seconds=min(float(run["seconds"]) for run in pipeline_runs),
        e2e_rss_bytes=max(int(run["max_rss_bytes"]) for run in pipeline_runs),
    )


def _stages(
    recording: Recording, archive_root: Path, repeat: int
) -> tuple[list[StageResult], DayState]:
    state = DayState()
    functions = stage_functions(recording, state, archive_root)
    results = []
    for stage in STAGES:
        seconds, output = best_of(repeat, functions[stage])
        peak = traced_peak(functions[stage])
        keep(state, stage, output, recording)
        results.append(StageResult(stage, seconds, peak))
    return results, state


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    import os

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": sys.version.split()[0],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--scales", default="1000,10000,100000", help="usage rows a day, comma-separated"
    )
    parser.add_argument(
        "--quick", action="store_true", help="one run each: a smoke test, not figures"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="folder for latest.md and latest.json"
    )
    args = parser.parse_args(argv)
    scales = [int(text) for text in args.scales.split(",")]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fwcost-bench-") as scratch:
        results = [measure_scale(rows, Path(scratch), args.quick) for rows in scales]
    handler = import_time("app", 1 if args.quick else 9)
    boto3 = import_time("boto3", 1 if args.quick else 9)
    traffic = measure_traffic(REPORT_DAY)
    sizes = artifact_sizes()
    document = {
        "machine": machine(),
        "scales": [asdict(result) for result in results],
        "cold_start": {"handler": asdict(handler), "boto3": asdict(boto3)},
        "traffic": asdict(traffic),
        "artifact": None if sizes is None else [asdict(size) for size in sizes],
        "export_import": measure_export_import(),  # issue 15: a 1M-row export, peak RSS
        "bench_seconds": time.perf_counter() - started,
    }
    text = markdown(document) + "\n".join(markdown_lines(document["export_import"])) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(text)
    (args.out / "latest.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"written to {args.out / 'latest.md'} and latest.json")


if __name__ == "__main__":
    main()
