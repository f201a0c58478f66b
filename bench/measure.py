"""Timing and memory helpers: best of N wall time, tracemalloc peak, a fresh process's peak RSS."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def best_of(repeat: int, work: Callable[[], T]) -> tuple[float, T]:
    """The fastest of `repeat` runs (the least disturbed by the machine), and the last result."""
    best = float("inf")
    result: T
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def traced_peak(work: Callable[[], object]) -> int:
    """Bytes allocated at the peak of `work`, above what was allocated before it started."""
    gc.collect()
    tracemalloc.start()
    try:
        work()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def max_rss_bytes() -> int:
    """This process's peak resident set (VmHWM).

    Not getrusage's ru_maxrss: Linux keeps that across fork and exec, so a child started from
    the (large) benchmark process would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status: peak RSS needs Linux")


def run_python(args: list[str], *, extra_env: dict[str, str] | None = None) -> str:
    """Run `python <args>` in a fresh process with this repository's src/ first on the path."""
    env = os.environ | {"PYTHONPATH": _python_path()} | (extra_env or {})
    finished = subprocess.run(
        [sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed:\n{finished.stderr[-3000:]}")
    return finished.stdout


def run_json(args: list[str]) -> dict[str, Any]:
    output = run_python(args).strip().splitlines()[-1]
    document = json.loads(output)
    assert isinstance(document, dict)
    return document


def _python_path() -> str:
    parts = [str(REPO_ROOT / "src"), str(REPO_ROOT)]
    return os.pathsep.join(parts)
