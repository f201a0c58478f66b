"""The figures of a fault-injection session: what each scenario measured, summed into the line
`pytest` prints at the end (tests/faults/conftest.py) and the README states."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from faults.scenarios import Scenario


@dataclass(frozen=True)
class Measured:
    """One scenario's figures, once production's retries have run their course."""

    scenario: Scenario
    loud: bool  # the invocation the fault hit raised
    lost: int  # expected (audience, destination) pairs that never got the day's report
    duplicates: int  # pairs that got the same day's report more than intended
    secrets: int  # (secret, place) pairs where a secret value was found
    resent: int  # sends repeated in the documented at-least-once window

    @classmethod
    def as_intended(cls, scenario: Scenario) -> Measured:
        """What the scenario must measure."""
        return cls(scenario, scenario.expect_loud, 0, 0, 0, scenario.resends)


@dataclass
class FaultFigures:
    results: list[Measured] = field(default_factory=list)
    unmeasured: list[str] = field(default_factory=list)  # scenarios that failed before measuring
    seconds: float = 0.0  # wall time of the scenarios, setup and teardown included

    def line(self) -> str:
        return figures_line(self.results)


def figures_line(results: Iterable[Measured]) -> str:
    """`fault injection: 27 faults tried, ...`, as printed and as the README states it."""
    results = list(results)
    should_fail = [result for result in results if result.scenario.expect_loud]
    failed_loudly = [result for result in should_fail if result.loud]
    return (
        f"fault injection: {len(results)} faults tried,"
        f" {len(failed_loudly)} of {len(should_fail)} runs that should fail failed loudly,"
        f" {sum(r.lost for r in results)} deliveries lost,"
        f" {sum(r.duplicates for r in results)} duplicates,"
        f" {sum(r.secrets for r in results)} secrets found;"
        f" {sum(r.resent for r in results)} resent in the documented at-least-once window"
    )


def intended_line(scenarios: Iterable[Scenario]) -> str:
    """The line a session running every scenario prints when each measures as intended."""
    return figures_line(Measured.as_intended(scenario) for scenario in scenarios)
