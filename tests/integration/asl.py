"""A small Amazon States Language interpreter: the subset statemachine/fanout.asl.json uses.

Step Functions cannot run here (no AWS, and moto does not execute Lambda tasks without Docker),
so a test executes the definition step by step in-process, as Step Functions would: Task
(lambda:invoke, with Retry and Catch), Pass, Choice (StringEquals, BooleanEquals, IsPresent,
And), Map (ItemsPath, ItemSelector, an inline ItemProcessor; iterations run one after the
other), Fail and Succeed; Parameters, ResultSelector, ResultPath and OutputPath with JSONPath
references (`$.a.b`, `$.a[0]`, `$$.Map.Item.Value`). Anything else in a definition is an error
here, so the definition cannot quietly grow past what the test proves. Retries do not wait;
each is recorded with the delay Step Functions would have waited (without jitter).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Json = Any
Invoke = Callable[[str, Json], Json]  # (function ARN, payload) -> the function's return value
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
_MISSING = object()
STATE_TYPES = {"Task", "Pass", "Choice", "Map", "Fail", "Succeed"}


class TaskError(Exception):
    """A task (or the function it invoked) failed: Step Functions' Error and Cause."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


@dataclass
class Execution:
    status: str = "RUNNING"  # then SUCCEEDED or FAILED
    output: Json = None
    error: str = ""
    cause: str = ""
    visited: list[str] = field(default_factory=list)  # every state entered, in order
    payloads: list[Json] = field(default_factory=list)  # every Task's payload, retries included
    retries: list[tuple[str, float]] = field(default_factory=list)  # (state, delay seconds)


def execute(definition: Json, execution_input: Json, invoke: Invoke) -> Execution:
    run = Execution()
    try:
        run.output = _machine(definition, execution_input, {}, invoke, run)
        run.status = "SUCCEEDED"
    except TaskError as failure:
        run.status, run.error, run.cause = "FAILED", failure.error, failure.cause
    return run


def reachable(definition: Json) -> set[str]:
    """Every state name reachable from StartAt, nested machines included."""
    seen: set[str] = set()

    def walk(machine: Json) -> None:
        todo = [machine["StartAt"]]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            state = machine["States"][name]
            todo += [t for t in _targets(state) if t]
            if state["Type"] == "Map":
                walk(state["ItemProcessor"])

    walk(definition)
    return seen


def all_states(definition: Json) -> Iterator[tuple[str, Json]]:
    for name, state in definition["States"].items():
        yield name, state
        if state["Type"] == "Map":
            yield from all_states(state["ItemProcessor"])


def _targets(state: Json) -> list[str]:
    return [
        state.get("Next", ""),
        state.get("Default", ""),
        *(choice["Next"] for choice in state.get("Choices", [])),
        *(catcher["Next"] for catcher in state.get("Catch", [])),
    ]


def _machine(machine: Json, data: Json, context: Json, invoke: Invoke, run: Execution) -> Json:
    name = machine["StartAt"]
    while True:
        state = machine["States"][name]
        if state["Type"] not in STATE_TYPES:
            raise AssertionError(f"state {name}: type {state['Type']} is not interpreted here")
        run.visited.append(name)
        kind = state["Type"]
        if kind == "Succeed":
            return data
        if kind == "Fail":
            raise TaskError(state["Error"], state.get("Cause", ""))
        if kind == "Choice":
            name = _choose(state, data)
            continue
        if kind == "Pass":
            result = fill(state["Parameters"], data, context) if "Parameters" in state else data
            data = _place(data, result, state)
        elif kind == "Task":
            data, caught = _task(name, state, data, context, invoke, run)
            if caught:
                name = caught
                continue
        else:
            data = _place(data, _map(state, data, invoke, run), state)
        if state.get("End"):
            return data
        name = state["Next"]


def _task(
    name: str, state: Json, data: Json, context: Json, invoke: Invoke, run: Execution
) -> tuple[Json, str]:
    """The task's output and "" or, when a Catch took its error, the error output and next."""
    assert state["Resource"] == "arn:aws:states:::lambda:invoke", state["Resource"]
    parameters = fill(state["Parameters"], data, context)
    attempts: dict[int, int] = {}
    while True:
        run.payloads.append(parameters["Payload"])
        try:
            result = {
                "StatusCode": 200,
                "Payload": invoke(parameters["FunctionName"], parameters["Payload"]),
            }
            break
        except TaskError as failure:
            index = _matching(state.get("Retry", []), failure.error)
            if index is not None:
                retrier = state["Retry"][index]
                attempts[index] = attempts.get(index, 0) + 1
                if attempts[index] <= retrier.get("MaxAttempts", 3):
                    delay = retrier.get("IntervalSeconds", 1) * retrier.get("BackoffRate", 2.0) ** (
                        attempts[index] - 1
                    )
                    run.retries.append((name, min(delay, retrier.get("MaxDelaySeconds", delay))))
                    continue
            catcher = _matching(state.get("Catch", []), failure.error)
            if catcher is None:
                raise
            caught = state["Catch"][catcher]
            error_output = {"Error": failure.error, "Cause": failure.cause}
            return _put(data, error_output, caught.get("ResultPath", "$")), caught["Next"]
    if "ResultSelector" in state:
        result = fill(state["ResultSelector"], result, context)
    return _place(data, result, state), ""


def _matching(rules: list[Json], error: str) -> int | None:
    for index, rule in enumerate(rules):
        names = rule["ErrorEquals"]
        task_failed = "States.TaskFailed" in names and error != "States.Timeout"
        if error in names or "States.ALL" in names or task_failed:
            return index
    return None


def _map(state: Json, data: Json, invoke: Invoke, run: Execution) -> list[Json]:
    assert isinstance(state.get("MaxConcurrency"), int) and state["MaxConcurrency"] > 0
    assert state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "INLINE"
    results = []
    for index, item in enumerate(path(data, state["ItemsPath"])):
        context = {"Map": {"Item": {"Index": index, "Value": item}}}
        item_input = fill(state["ItemSelector"], data, context) if "ItemSelector" in state else item
        results.append(_machine(state["ItemProcessor"], item_input, context, invoke, run))
    return results


def _choose(state: Json, data: Json) -> str:
    for rule in state["Choices"]:
        if _holds(rule, data):
            return str(rule["Next"])
    return str(state["Default"])


def _holds(rule: Json, data: Json) -> bool:
    if "And" in rule:
        return all(_holds(part, data) for part in rule["And"])
    value = path(data, rule["Variable"], missing=_MISSING)
    if "IsPresent" in rule:
        return (value is not _MISSING) == rule["IsPresent"]
    if "StringEquals" in rule:
        return bool(value == rule["StringEquals"])
    if "BooleanEquals" in rule:
        return value is rule["BooleanEquals"]
    raise AssertionError(f"choice rule not interpreted here: {rule}")


def fill(template: Json, data: Json, context: Json) -> Json:
    """Parameters, ItemSelector or ResultSelector with each `key.$` path resolved."""
    if isinstance(template, dict):
        filled = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if value.startswith("$$"):  # the context object
                    filled[key[:-2]] = copy.deepcopy(path(context, value[1:]))
                else:
                    filled[key[:-2]] = copy.deepcopy(path(data, value))
            else:
                filled[key] = fill(value, data, context)
        return filled
    return template


def path(data: Json, reference: str, missing: Any = None) -> Json:
    """A JSONPath reference path's value; a missing one is `missing` when given, else an
    error, as Step Functions fails the state (States.Runtime)."""
    assert reference.startswith("$"), reference
    value = data
    for field_name, index in _STEP.findall(reference[1:]):
        if field_name and isinstance(value, dict) and field_name in value:
            value = value[field_name]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        elif missing is not None:
            return missing
        else:
            raise TaskError("States.Runtime", f"{reference} not found in {data!r}")
    return value


def _place(data: Json, result: Json, state: Json) -> Json:
    placed = _put(data, result, state.get("ResultPath", "$"))
    return path(placed, state["OutputPath"]) if "OutputPath" in state else placed


def _put(data: Json, result: Json, result_path: str | None) -> Json:
    if result_path is None:
        return data
    if result_path == "$":
        return result
    placed = copy.deepcopy(data)
    target = placed
    *parents, last = result_path.removeprefix("$.").split(".")
    for parent in parents:
        target = target.setdefault(parent, {})
    target[last] = result
    return placed
