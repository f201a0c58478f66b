"""The check report for a terminal: one line per check, its fix below it."""

from __future__ import annotations

import textwrap

from fwcost.check.model import CheckReport, CheckResult, Status

# A degradation is a failure to fix (exit 1) whose run still goes on; its detail says how.
SYMBOLS = {Status.PASSED: "✓", Status.FAILED: "✗", Status.DEGRADED: "✗", Status.SKIPPED: "–"}
WIDTH = 100
MIN_NAME_WIDTH = 18  # the longest standard name, "conditional writes"


def render_report(report: CheckReport) -> str:
    lines = [report.heading]
    for section in report.sections:
        lines += ["", f"{section.title} ({section.where})" if section.where else section.title]
        # Sections align at MIN_NAME_WIDTH; a longer name (a destination id) widens its own only.
        name_width = max([MIN_NAME_WIDTH, *(len(result.name) for result in section.results)])
        for result in section.results:
            lines += _result_lines(result, name_width)
    lines += ["", report.summary()]
    for hint in report.hints:
        lines += _wrapped(hint, "", "")
    return "\n".join(lines)


def _result_lines(result: CheckResult, name_width: int) -> list[str]:
    head = f"  {SYMBOLS[result.status]} {result.name.ljust(name_width)}  "
    indent = " " * len(head)
    lines = _wrapped(result.detail, head, indent)
    if result.fix:
        lines += _wrapped(f"→ Fix: {result.fix}", indent, indent + "  ")
    return lines


def _wrapped(text: str, first: str, rest: str) -> list[str]:
    """Each line of `text` wrapped to WIDTH; the first starts after `first`, the others `rest`."""
    lines: list[str] = []
    for number, paragraph in enumerate(text.splitlines() or [""]):
        lines += textwrap.wrap(
            paragraph,
            WIDTH,
            initial_indent=first if number == 0 else rest,
            subsequent_indent=rest,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [first.rstrip()]
    return lines
