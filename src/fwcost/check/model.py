"""What `fwcost check` finds: one result per check, grouped in sections, and the exit status."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any


class Status(Enum):
    PASSED = "passed"
    # The run goes on without it, with a worse report (estimated per-key dollars, no billed
    # total, training without job detail): still something to fix, so the check fails.
    DEGRADED = "degraded"
    FAILED = "failed"
    SKIPPED = "skipped"  # not applicable, or not judged because something it needs failed


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str  # e.g. "API key", "billingUsage", "#finops"
    status: Status
    detail: str  # what was found, in words; never a secret
    fix: str = ""  # what to do about a failure or degradation

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix,
        }


def passed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.PASSED, detail)


def failed(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.FAILED, detail, fix)


def degraded(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.DEGRADED, detail, fix)


def skipped(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.SKIPPED, detail)


@dataclass(frozen=True, slots=True)
class Section:
    title: str  # "Fireworks"
    where: str = ""  # what it talks to, e.g. "https://api.fireworks.ai"
    results: tuple[CheckResult, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "where": self.where,
            "checks": [result.as_dict() for result in self.results],
        }


class CheckFailed(Exception):
    """A check failed or degrades the report; the message is the whole report, as printed."""


@dataclass(frozen=True)
class CheckReport:
    heading: str  # account, timezone, where the settings came from
    sections: tuple[Section, ...]
    # Settings, routing, price book or timezone do not parse: the run would not start (exit 2).
    bad_settings: bool = False
    sent_test: bool = False
    hints: tuple[str, ...] = ()

    @property
    def results(self) -> list[CheckResult]:
        return [result for section in self.sections for result in section.results]

    def count(self, status: Status) -> int:
        return sum(result.status is status for result in self.results)

    @property
    def exit_status(self) -> int:
        """0 all passed (skips allowed), 1 something failed or degrades the report, 2 bad settings."""
        if self.bad_settings:
            return 2
        if self.count(Status.FAILED) or self.count(Status.DEGRADED):
            return 1
        return 0

    def summary(self) -> str:
        failures, degradations = self.count(Status.FAILED), self.count(Status.DEGRADED)
        skips = f" ({self.count(Status.SKIPPED)} skipped)" if self.count(Status.SKIPPED) else ""
        if not failures and not degradations:
            return f"All {len(self.results)} checks passed{skips}. Exit status 0."
        parts = []
        if failures:
            parts.append(f"{failures} check{'s' if failures > 1 else ''} failed")
        if degradations:
            which = "" if failures else (" check" if degradations == 1 else " checks")
            verb = "degrades" if degradations == 1 else "degrade"
            parts.append(f"{degradations}{which} {verb} the report")
        settings = " (the settings are invalid)" if self.bad_settings else ""
        return f"{', '.join(parts)}{skips}{settings}. Exit status {self.exit_status}."

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.exit_status == 0,
            "exit_status": self.exit_status,
            "heading": self.heading,
            "summary": self.summary(),
            "sent_test": self.sent_test,
            "counts": {status.value: self.count(status) for status in Status},
            "sections": [section.as_dict() for section in self.sections],
        }

    def masked(self, mask: Callable[[str], str]) -> CheckReport:
        """The same report with `mask` applied to every text (the last guard against secrets)."""

        def masked_results(results: Iterable[CheckResult]) -> tuple[CheckResult, ...]:
            return tuple(
                replace(
                    result, name=mask(result.name), detail=mask(result.detail), fix=mask(result.fix)
                )
                for result in results
            )

        sections = tuple(
            replace(section, where=mask(section.where), results=masked_results(section.results))
            for section in self.sections
        )
        return replace(
            self,
            heading=mask(self.heading),
            sections=sections,
            hints=tuple(mask(hint) for hint in self.hints),
        )
