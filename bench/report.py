"""The results as one Markdown document: per-scale stage table, cold start, requests, artifact, targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MB = 1024 * 1024
TARGET_RATIO = 3.0
TARGET_RSS_100K = 512 * MB
TARGET_RSS_10K = 256 * MB
TARGET_IMPORT_RATIO = 1.5
TARGET_DAILY_REQUESTS = 4
TARGET_BACKFILL_WINDOWS = 12


@dataclass(frozen=True, slots=True)
class StageResult:
    stage: str
    seconds: float  # best of N
    peak_bytes: int  # tracemalloc peak while the stage ran


@dataclass(frozen=True, slots=True)
class ScaleResult:
    rows: int
    usage_rows: int
    body_bytes: int
    requests: int
    record_seconds: float
    repeat: int
    stages: list[StageResult]
    floor_seconds: float
    floor_peak_bytes: int
    floor_rss_bytes: int
    baseline_rss_bytes: int
    e2e_seconds: float
    e2e_rss_bytes: int

    @property
    def ratio(self) -> float:
        return self.e2e_seconds / self.floor_seconds


def markdown(document: dict[str, Any]) -> str:
    scales = document["scales"]
    lines = ["# fwcost benchmark", "", _machine(document["machine"])]
    for section in (
        _stage_table(scales),
        _cold_start(document["cold_start"]),
        _traffic(document["traffic"]),
        _artifact(document["artifact"]),
        targets_table(document),
    ):
        lines += ["", *section]
    lines.append("")
    lines.append(f"Whole benchmark: {document['bench_seconds']:.0f} s.")
    return "\n".join(lines) + "\n"


def _machine(machine: dict[str, Any]) -> str:
    return (
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['system']}, "
        f"Python {machine['python']}."
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _mb(size: int) -> str:
    return f"{size / MB:,.1f} MB"


def _stage_table(scales: list[dict[str, Any]]) -> list[str]:
    header = "| stage | " + " | ".join(f"{s['rows']:,} rows: time | peak" for s in scales) + " |"
    lines = [
        "## One report day, stage by stage",
        "",
        "Time is the best of N runs on the recorded bytes; peak is tracemalloc's, for the stage "
        "alone. End to end runs in a fresh process (time best of N, peak = its max RSS, "
        "VmHWM, interpreter and imports included). The floor is `json.loads` of the same bodies.",
        "",
        header,
        "|---|" + "---|---|" * len(scales),
    ]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row(
        "usage rows / raw bodies", [f"{s['usage_rows']:,} | {_mb(s['body_bytes'])}" for s in scales]
    )
    row("requests for the day", [f"{s['requests']} | " for s in scales])
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
        [f"**{_ms(s['e2e_seconds'])}** | **{_mb(s['e2e_rss_bytes'])}** RSS" for s in scales],
    )
    row(
        "floor: `json.loads`",
        [f"{_ms(s['floor_seconds'])} | {_mb(s['floor_peak_bytes'])}" for s in scales],
    )
    row(
        "floor in a fresh process",
        [f" | {_mb(s['floor_rss_bytes'])} RSS" for s in scales],
    )
    row(
        "idle process (imports + recording)",
        [f" | {_mb(s['baseline_rss_bytes'])} RSS" for s in scales],
    )
    row(
        "**end to end / floor**",
        [f"**{s['e2e_seconds'] / s['floor_seconds']:.2f}×** | " for s in scales],
    )
    row("runs (best of)", [f"{s['repeat']} | " for s in scales])
    return lines


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
    by_rows = {s["rows"]: s for s in document["scales"]}
    found: list[tuple[str, str, bool]] = []
    if 100_000 in by_rows:
        big = by_rows[100_000]
        ratio = big["e2e_seconds"] / big["floor_seconds"]
        times = f"{_ms(big['e2e_seconds'])} vs {_ms(big['floor_seconds'])}: {ratio:.2f}×"
        found.append(("100k-row day end to end ≤ 3× json.loads", times, ratio <= TARGET_RATIO))
        found.append(
            (
                "100k-row day peak < 512 MB",
                _mb(big["e2e_rss_bytes"]),
                big["e2e_rss_bytes"] < TARGET_RSS_100K,
            )
        )
    if 10_000 in by_rows:
        rss = by_rows[10_000]["e2e_rss_bytes"]
        found.append(("10k-row day peak < 256 MB", _mb(rss), rss < TARGET_RSS_10K))
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
