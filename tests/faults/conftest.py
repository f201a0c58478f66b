"""The fault-injection tier: a `lab` per test, and the session's figures printed at the end of
every `pytest` run that ran a scenario (the line the README's "Reliability" section states)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from fake_slack import record_slack_sleeps, serve_fake_slack
from faults.figures import FaultFigures
from faults.lab import FaultLab, app_log_lines, aws_fault_hook, serialise_s3_puts

FIGURES = pytest.StashKey[FaultFigures]()
FAILED = pytest.StashKey[bool]()


def session_figures(config: pytest.Config) -> FaultFigures:
    return config.stash.setdefault(FIGURES, FaultFigures())


@pytest.fixture
def lab(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    lambda_context: Any,
) -> Iterator[FaultLab]:
    figures = session_figures(request.config)
    started = time.monotonic()
    caplog.set_level(logging.INFO)  # what Lambda's log level lets through
    serialise_s3_puts(monkeypatch)
    with ExitStack() as stack:
        lab = FaultLab(
            stack=stack,
            monkeypatch=monkeypatch,
            tmp_path=tmp_path,
            slack=stack.enter_context(serve_fake_slack()),
            aws=stack.enter_context(aws_fault_hook()),
            slack_sleeps=record_slack_sleeps(monkeypatch),
            log=stack.enter_context(app_log_lines()),
            caplog=caplog,
            capsys=capsys,
            figures=figures,
            context=lambda_context,
        )
        yield lab
    if lab.scenario is not None and lab.measured is None and request.node.stash.get(FAILED, False):
        figures.unmeasured.append(lab.scenario.name)
    figures.seconds += time.monotonic() - started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Note a test that failed, for its lab to tell a scenario that failed unmeasured."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    figures = config.stash.get(FIGURES, None)
    if figures is None or not (figures.results or figures.unmeasured):
        return
    terminalreporter.write_sep("-", "fault injection (tests/faults)")
    terminalreporter.write_line(figures.line())
    if figures.unmeasured:
        terminalreporter.write_line(
            f"{len(figures.unmeasured)} scenarios failed before they were measured:"
            f" {', '.join(figures.unmeasured)}",
            red=True,
        )
    tried = len(figures.results) + len(figures.unmeasured)
    terminalreporter.write_line(f"{tried} scenarios in {figures.seconds:.1f} s")
