"""The normalized records every stage speaks: what Fireworks said, parsed and typed.

Quantities are ints (tokens, accelerator-seconds); audio seconds are a float because the API
sends a JSON number; money is Decimal. An empty string means "the API did not say" (for
annotations: usage with no team/project/environment annotation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields, make_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar, cast

_Fields = ParamSpec("_Fields")
_Record = TypeVar("_Record")


def quick_constructor(record: Callable[_Fields, _Record]) -> Callable[_Fields, _Record]:
    """A constructor of a frozen slots dataclass that costs what a mutable one costs.

    A frozen dataclass's own __init__ sets each field through object.__setattr__ (its class's
    __setattr__ refuses): a third of the time of parsing a billingUsage row, measured, and a
    day is up to a million rows; a mutable one's __init__ costs a third of that. This builds
    the fields on a mutable slots twin of the class, then relabels the object as the class
    itself. Python allows that relabelling
    only between classes of the same memory layout (the same slots, in the same order), which
    the twin has by construction, so the object is exactly what record(...) returns: the same
    type, equal, hashable, frozen, replace()-able (tests/unit/test_model.py holds this).
    """
    cls = cast(type, record)
    assert all(f.default_factory is MISSING for f in fields(cls)), "defaults are plain values"
    twin = make_dataclass(
        f"_Mutable{cls.__name__}",
        [(f.name, f.type, field(default=f.default)) for f in fields(cls)],
        slots=True,
    )

    def construct(*args: _Fields.args, **kwargs: _Fields.kwargs) -> _Record:
        instance: Any = twin(*args, **kwargs)
        instance.__class__ = cls
        return cast(_Record, instance)

    return construct


@dataclass(frozen=True, slots=True)
class ServerlessUsage:
    """One billingUsage serverless row: one day × model × key × annotations."""

    day: date
    model: str
    api_key_id: str
    api_key_name: str
    team: str
    project: str
    environment: str
    usage_type: str
    prompt_tokens: int
    cached_prompt_tokens: int
    completion_tokens: int
    audio_input_seconds: float
    # Present on newer rows only (third-party observation); None when absent.
    cost_nano_usd: int | None = None


@dataclass(frozen=True, slots=True)
class DedicatedUsage:
    """One billingUsage dedicated row: one day × deployment × accelerator × annotations."""

    day: date
    deployment: str
    accelerator_type: str
    base_model: str
    placement: str
    team: str
    project: str
    environment: str
    usage_type: str
    accelerator_seconds: int


@dataclass(frozen=True, slots=True)
class TrainingUsage:
    """One billingUsage training row, where the API returns them."""

    day: date
    job_id: str
    job_type: str
    base_model: str
    accelerator_type: str
    team: str
    project: str
    environment: str
    usage_type: str
    accelerator_seconds: int


@dataclass(frozen=True, slots=True)
class LineItem:
    """One rated line of billing/summary for one day (before credits, discounts, taxes)."""

    day: date
    category: str
    grouping_key: str
    grouping_value: str
    secondary_grouping_key: str
    secondary_grouping_value: str
    series: str
    quantity: float
    unit_amount: Decimal
    total_cost: Decimal  # USD: fwcost.fireworks.parse refuses other currencies


@dataclass(frozen=True, slots=True)
class KeyCost:
    """One usageCosts:query row: rated dollars of one API key on one day.

    api_key_id is Fireworks' reserved value "unattributed" where it could not say.
    """

    day: date
    api_key_id: str
    cost: Decimal
    model: str = ""
    user: str = ""


@dataclass(frozen=True, slots=True)
class RawResponse:
    """One HTTP response exactly as received, and how it was asked for (no secrets)."""

    name: str  # stable file stem, e.g. "billingUsage", "usageCosts-page-002"
    method: str
    path: str
    params: tuple[tuple[str, str], ...]  # query parameters in the order sent
    request_body: bytes  # b"" for GET
    status: int
    body: bytes
    fetched_at: datetime  # UTC, when the response arrived
    elapsed_seconds: float
    attempts: int


@dataclass(slots=True)
class DayUsage:
    """Everything fetched about one report day, normalized. The input of attribution."""

    day: date
    serverless: list[ServerlessUsage] = field(default_factory=list)
    dedicated: list[DedicatedUsage] = field(default_factory=list)
    training: list[TrainingUsage] = field(default_factory=list)
    line_items: list[LineItem] = field(default_factory=list)
    # None when usageCosts:query was not available (refused, failed): no per-key dollars.
    key_costs: list[KeyCost] | None = None
    # What is missing and why, in words a person can act on; empty when the day is complete.
    gaps: list[str] = field(default_factory=list)
    # False when billing/summary did not answer: then there is no billed total to add up to.
    has_summary: bool = True


@dataclass(slots=True)
class WindowPull:
    """The result of fetching one window of days: raw bodies plus the days they describe."""

    start: date
    end: date  # inclusive
    raw: list[RawResponse]
    days: dict[date, DayUsage]
    # False when the API refused the training dimensions (an older gateway answers 400 for
    # groupBy=job_id and the like): the manifest says so instead of implying there was none.
    training_offered: bool = True
