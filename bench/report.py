"""The results as one Markdown document: per-scale stage table, cold start, requests, artifact, targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MB = 1024 * 1024
GB = 1024 * MB
TARGET_RATIO = 3.0
TARGET_RSS_100K = 400 * MB
TARGET_RSS_10K = 256 * MB
TARGET_RSS_1M = 1.5 * GB
TARGET_1M_VS_100K = 11.0
TARGET_IMPORT_RATIO = 1.5
TARGET_DAILY_REQUESTS = 4
TARGET_BACKFILL_WINDOWS = 12


@dataclass(frozen=True, slots=True)
class StageResult:
    stage: str
    seconds: float  # best of N
    peak_bytes: int  # tracemalloc peak while the stage ran


@dataclass(frozen=True, slots=True)
class DayRun:
    """One report day end to end and its floor, each in fresh processes, best of `repeat`."""

    rows: int  # the simulator's for_rows knob
    usage_rows: int
    body_bytes: int
    requests: int
    record_seconds: float
    repeat: int
    e2e_seconds: float
    e2e_rss_bytes: int  # the highest of the runs' peaks
    floor_seconds: float
    floor_rss_bytes: int


@dataclass(frozen=True, slots=True)
class ScaleResult:
    day: DayRun
    stages: list[StageResult]
    baseline_rss_bytes: int  # a fresh process with the imports and the recording loaded


def markdown(document: dict[str, Any]) -> str:
    scales = document["scales"]
    lines = ["# fwcost benchmark", "", _machine(document["machine"], document.get("load_average"))]
    for section in (
        _method(),
        _stage_table(scales),
        _curve(document["curve"]),
        _cold_start(document["cold_start"]),
        _traffic(document["traffic"]),
        _artifact(document["artifact"]),
        targets_table(document),
    ):
        lines += ["", *section]
    lines.append("")
    lines.append(f"Whole benchmark: {document['bench_seconds']:.0f} s.")
    return "\n".join(lines) + "\n"


def _machine(machine: dict[str, Any], load: list[float] | None = None) -> str:
    text = (
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['system']}, "
        f"Python {machine['python']}."
    )
    if load:
        text += (
            " Load average when the run ended (1, 5, 15 minutes): "
            + ", ".join(f"{value:.2f}" for value in load)
            + " (others' work on the same cores)."
        )
    return text


def _method() -> list[str]:
    return [
        "## Method",
        "",
        "End to end and floor are measured the same way: each in a fresh process "
        "(bench/e2e.py), the archive of the trailing 30 days copied in first, the clock around "
        "the work alone (not the interpreter start, the imports or loading the recorded bytes), "
        "best of N runs taken in turn (end to end, floor, end to end, ...); peak is the "
        "process's peak RSS (VmHWM, interpreter and imports included, the recorded bodies "
        "handed to the job as a network hands them, not kept a second time), the highest of "
        "the runs. End to end is the daily job on the recorded day: "
        "the real client's decode over replayed HTTP, parse, attribution, CSV, archive to a "
        "folder, summary against the 30 archived days, reports rendered and archived, no "
        "delivery. The floor is `json.loads` of the same response bodies and of the 30 "
        "archived attribution.json the job reads back. The stages are the job's own, timed in-process "
        "on the same bytes (best of N, tracemalloc peak), for where the time goes: the "
        "replayed fetch (the client's row-by-row decode into typed rows), attribution, CSV, "
        "the history read back from the seeded archive, the reports, the archive writes; the "
        "cyclic collector paused where the job pauses it. Their sum is close to the end to "
        "end, not equal: each stage is its own best run. The machine is shared: compare "
        "ratios within one run.",
    ]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _mb(size: int) -> str:
    return f"{size / MB:,.1f} MB"


def _stage_table(scales: list[dict[str, Any]]) -> list[str]:
    days = [s["day"] for s in scales]
    header = "| stage | " + " | ".join(f"{d['rows']:,} rows: time | peak" for d in days) + " |"
    lines = [
        "## One report day, stage by stage",
        "",
        header,
        "|---|" + "---|---|" * len(scales),
    ]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("usage rows / raw bodies", [f"{d['usage_rows']:,} | {_mb(d['body_bytes'])}" for d in days])
    row("requests for the day", [f"{d['requests']} | " for d in days])
    for index, stage in enumerate(scales[0]["stages"]):
        name = stage["stage"]
        row(
            name,
            [
                f"{_ms(s['stages'][index]['seconds'])} | {_mb(s['stages'][index]['peak_bytes'])}"
                for s in scales
            ],
        )
    row("sum of stages", [f"{_ms(sum(t['seconds'] for t in s['stages']))} | " for s in scales])
    row(
        "**end to end** (fresh process)",
        [f"**{_ms(d['e2e_seconds'])}** | **{_mb(d['e2e_rss_bytes'])}** RSS" for d in days],
    )
    row(
        "floor: `json.loads` (fresh process)",
        [f"{_ms(d['floor_seconds'])} | {_mb(d['floor_rss_bytes'])} RSS" for d in days],
    )
    row(
        "idle process (imports + recording)",
        [f" | {_mb(s['baseline_rss_bytes'])} RSS" for s in scales],
    )
    row("**end to end / floor**", [f"**{_ratio(d):.2f}×** | " for d in days])
    row("runs (best of)", [f"{d['repeat']} | " for d in days])
    return lines


def _curve(days: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Scaling: end to end against the floor, fresh processes",
        "",
        "| usage rows | raw bodies | end to end | floor | end to end / floor | peak RSS | "
        "time per 1k rows | runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for d in days:
        lines.append(
            f"| {d['usage_rows']:,} | {_mb(d['body_bytes'])} | {_ms(d['e2e_seconds'])} | "
            f"{_ms(d['floor_seconds'])} | {_ratio(d):.2f}× | {_mb(d['e2e_rss_bytes'])} | "
            f"{_ms(d['e2e_seconds'] * 1000 / max(d['usage_rows'], 1))} | {d['repeat']} |"
        )
    return lines


def _ratio(day: dict[str, Any]) -> float:
    return float(day["e2e_seconds"]) / float(day["floor_seconds"])


def _cold_start(cold: dict[str, Any]) -> list[str]:
    handler, boto3 = cold["handler"], cold["boto3"]
    heaviest = ", ".join(f"{name} {_ms(seconds)}" for name, seconds in handler["heaviest"])
    return [
        "## Cold start (`python -X importtime`, best of 9 fresh interpreters)",
        "",
        "| import | time |",
        "|---|---|",
        f"| Lambda handler module (`app`) | {_ms(handler['seconds'])} |",
        f"| boto3 alone | {_ms(boto3['seconds'])} |",
        f"| **handler / boto3** | **{handler['seconds'] / boto3['seconds']:.2f}×** |",
        "",
        f"Heaviest imports of the handler: {heaviest}.",
    ]


def _traffic(traffic: dict[str, Any]) -> list[str]:
    config = traffic["config"]
    lines = [
        f"## HTTP requests (simulator request log; account of {config['keys']} keys, "
        f"{config['models']} models)",
        "",
        "| run | days | requests | by endpoint | billingUsage windows (all usage types each) | time |",
        "|---|---|---|---|---|---|",
    ]
    for count in traffic["counts"]:
        endpoints = ", ".join(f"{k} {v}" for k, v in sorted(count["by_endpoint"].items()))
        lines.append(
            f"| {count['label']} | {count['days']} | {count['requests']} | {endpoints} | "
            f"{count['usage_windows']} | {_ms(count['seconds'])} |"
        )
    lines += [
        "",
        f"Daily run with {traffic['latency_seconds'] * 1000:.0f} ms of simulated latency per "
        f"request: **{_ms(traffic['latency_run_seconds'])}** wall "
        f"(the same run with no latency: {_ms(traffic['processing_seconds'])}).",
    ]
    return lines


def _artifact(parts: list[dict[str, Any]] | None) -> list[str]:
    title = "## Built artifact (.aws-sam/build, zip deflate)"
    if parts is None:
        return [title, "", "Not built: run `make build` first."]
    lines = [title, "", "| part | files | unzipped | zipped |", "|---|---|---|---|"]
    for part in parts:
        lines.append(
            f"| {part['name']} | {part['files']:,} | {_mb(part['unzipped'])} | {_mb(part['zipped'])} |"
        )
    unzipped = sum(part["unzipped"] for part in parts)
    largest_zip = max(part["zipped"] for part in parts)
    lines += [
        f"| **function + layer** | | **{_mb(unzipped)}** of 250 MB ({unzipped / (250 * MB):.0%}) | "
        f"largest {_mb(largest_zip)} of 50 MB ({largest_zip / (50 * MB):.0%}) |",
    ]
    return lines


def targets(document: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, measured, holds) for each target of the issue."""
    by_rows = {d["rows"]: d for d in [*(s["day"] for s in document["scales"]), *document["curve"]]}
    found: list[tuple[str, str, bool]] = []
    if 100_000 in by_rows:
        big = by_rows[100_000]
        ratio = _ratio(big)
        times = f"{_ms(big['e2e_seconds'])} vs {_ms(big['floor_seconds'])}: {ratio:.2f}×"
        found.append(
            ("100k-row day end to end ≤ 3× json.loads (both fresh)", times, ratio <= TARGET_RATIO)
        )
        rss = big["e2e_rss_bytes"]
        found.append(("100k-row day peak < 400 MB", _mb(rss), rss < TARGET_RSS_100K))
    if 10_000 in by_rows:
        rss = by_rows[10_000]["e2e_rss_bytes"]
        found.append(("10k-row day peak < 256 MB", _mb(rss), rss < TARGET_RSS_10K))
    if 1_000_000 in by_rows:
        huge = by_rows[1_000_000]
        rss = huge["e2e_rss_bytes"]
        found.append(("1M-row day peak < 1.5 GB", _mb(rss), rss < TARGET_RSS_1M))
        if 100_000 in by_rows:
            growth = huge["e2e_seconds"] / by_rows[100_000]["e2e_seconds"]
            times = f"{_ms(huge['e2e_seconds'])}: {growth:.1f}× the 100k-row day"
            found.append(("1M-row day ≤ 11× the 100k-row day's time", times, growth <= 11))
    cold = document["cold_start"]
    handler, boto3 = cold["handler"]["seconds"], cold["boto3"]["seconds"]
    ratio = handler / boto3
    times = f"{_ms(handler)} vs {_ms(boto3)}: {ratio:.2f}×"
    found.append(("handler import ≤ 1.5× boto3", times, ratio <= TARGET_IMPORT_RATIO))
    counts = {c["label"].split(",")[0]: c for c in document["traffic"]["counts"]}
    daily = counts["daily run"]["requests"]
    found.append(
        (
            "≤ 4 requests per report day (archive holds the trailing days)",
            str(daily),
            daily <= TARGET_DAILY_REQUESTS,
        )
    )
    backfill = counts["365-day backfill"]
    windows = backfill["usage_windows"]
    found.append(
        (
            "≤ 12 windows per usage type, 365-day backfill",
            f"{windows} ({backfill['requests']} requests in all)",
            windows <= TARGET_BACKFILL_WINDOWS,
        )
    )
    return found


def targets_table(document: dict[str, Any]) -> list[str]:
    lines = ["## Targets", "", "| target | measured | holds |", "|---|---|---|"]
    for target, measured, holds in targets(document):
        lines.append(f"| {target} | {measured} | {'yes' if holds else '**no**'} |")
    return lines
