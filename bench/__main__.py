"""`python -m bench [--scales 1000,10000,100000] [--curve 10000,...,1000000] [--quick]
[--out DIR]`: measure, print, write results (bench/out/ unless --out)."""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.artifact import artifact_sizes
from bench.coldstart import import_time
from bench.export_import import markdown_lines, measure_export_import
from bench.measure import REPO_ROOT, best_of, run_json, run_python, traced_peak
from bench.recording import Recording
from bench.report import DayRun, ScaleResult, StageResult, markdown
from bench.stages import REPORT_DAY, STAGES, DayState, keep, stage_functions
from bench.traffic import measure_traffic

# A run writes here (untracked); `make bench-record` writes the tracked bench/results/ instead,
# whose figures the README states (tests/unit/bench/test_readme_figures.py).
RESULTS = REPO_ROOT / "bench" / "out"
STAGE_SCALES = "1000,10000,100000"
CURVE_SCALES = "10000,100000,300000,1000000"


def repeats(rows: int, quick: bool) -> int:
    """Best of N: more runs where a run is cheap; the 1M-row day runs once (most of a minute)."""
    if quick:
        return 1
    for limit, runs in ((1_000, 7), (10_000, 5), (100_000, 3), (300_000, 2)):
        if rows <= limit:
            return runs
    return 1


def measure_day(rows: int, workdir: Path, quick: bool) -> DayRun:
    """One day end to end and its floor, each in fresh processes (bench/e2e.py), best of N.

    The day is recorded and its archive seeded in processes of their own too, so this one
    never holds a large day.
    """
    repeat = repeats(rows, quick)
    recording = workdir / f"recording-{rows}.pkl"
    started = time.perf_counter()
    recorded = run_json(["-m", "bench.e2e", "record", str(rows), str(recording)])
    record_seconds = time.perf_counter() - started
    seed = workdir / f"seed-{rows}"
    run_python(["-m", "bench.e2e", "seed", str(recording), str(seed), str(workdir)])

    def fresh(mode: str, run: int) -> dict[str, Any]:
        target = workdir / f"{mode}-{rows}-{run}"
        try:
            return run_json(["-m", "bench.e2e", mode, str(recording), str(seed), str(target)])
        finally:
            shutil.rmtree(target, ignore_errors=True)

    # Alternated, so that a shared machine slowing down mid-measurement slows both alike.
    pairs = [(fresh("pipeline", run), fresh("floor", run)) for run in range(repeat)]
    pipeline_runs = [pipeline for pipeline, _ in pairs]
    floor_runs = [floor for _, floor in pairs]
    return DayRun(
        rows=rows,
        usage_rows=int(recorded["usage_rows"]),
        body_bytes=int(recorded["body_bytes"]),
        requests=int(recorded["requests"]),
        record_seconds=record_seconds,
        repeat=repeat,
        e2e_seconds=min(float(run["seconds"]) for run in pipeline_runs),
        e2e_rss_bytes=max(int(run["max_rss_bytes"]) for run in pipeline_runs),
        floor_seconds=min(float(run["seconds"]) for run in floor_runs),
        floor_rss_bytes=max(int(run["max_rss_bytes"]) for run in floor_runs),
    )


def measure_scale(day: DayRun, workdir: Path, quick: bool) -> ScaleResult:
    """The recorded day's stages, one at a time in this process, beside its end to end."""
    recording_path = workdir / f"recording-{day.rows}.pkl"
    recording = Recording.load(recording_path)
    seed = workdir / f"seed-{day.rows}"
    stages = _stages(recording, seed, workdir / f"stages-{day.rows}", repeats(day.rows, quick))
    baseline = run_json(
        ["-m", "bench.e2e", "baseline", str(recording_path), str(seed), str(workdir / "idle")]
    )
    shutil.rmtree(workdir / "idle", ignore_errors=True)
    return ScaleResult(day, stages, int(baseline["max_rss_bytes"]))


def _stages(recording: Recording, seed: Path, archive_root: Path, repeat: int) -> list[StageResult]:
    state = DayState()
    functions = stage_functions(recording, state, seed, archive_root)
    results = []
    for stage in STAGES:
        seconds, output = best_of(repeat, functions[stage])
        peak = traced_peak(functions[stage])
        keep(state, stage, output)
        results.append(StageResult(stage, seconds, peak))
    return results


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


def _load_average() -> list[float]:
    """1, 5 and 15 minutes' load average when the run ended: others' work on a shared machine."""
    return [float(part) for part in Path("/proc/loadavg").read_text().split()[:3]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--scales", default=STAGE_SCALES, help="usage rows a day, stage by stage, comma-separated"
    )
    parser.add_argument(
        "--curve", default=CURVE_SCALES, help="usage rows a day, end to end only (scaling curve)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="one run each: a smoke test, not figures"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="folder for latest.md and latest.json"
    )
    args = parser.parse_args(argv)
    scales = [int(text) for text in args.scales.split(",")]
    curve = [int(text) for text in args.curve.split(",") if text]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fwcost-bench-") as scratch:
        workdir = Path(scratch)
        days: dict[int, DayRun] = {}
        results = []
        for rows in scales:
            days[rows] = measure_day(rows, workdir, args.quick)
            results.append(measure_scale(days[rows], workdir, args.quick))
        for rows in curve:
            if rows not in days:
                days[rows] = measure_day(rows, workdir, args.quick)
            (workdir / f"recording-{rows}.pkl").unlink(missing_ok=True)
            shutil.rmtree(workdir / f"seed-{rows}", ignore_errors=True)
    handler = import_time("app", 1 if args.quick else 9)
    boto3 = import_time("boto3", 1 if args.quick else 9)
    traffic = measure_traffic(REPORT_DAY)
    sizes = artifact_sizes()
    document = {
        "machine": machine(),
        "scales": [asdict(result) for result in results],
        "curve": [asdict(days[rows]) for rows in curve],
        "load_average": _load_average(),
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
