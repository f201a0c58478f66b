"""Raw Fireworks JSON → the typed records of fwcost.model.

proto3-JSON rules apply: int64 arrives as a string (a JSON number is accepted too), zero and
empty fields are omitted (so every field defaults), unknown fields are ignored. Money is
google.type.Money and becomes Decimal without ever passing through float: bodies are decoded
with `parse_float=Decimal`.

Numbers must be in range: finite (no NaN, Infinity or 1e400), int64 fields within int64,
quantities (tokens, seconds, a line item's quantity) not negative, Money in US dollars within
MAX_MONEY_UNITS with nanos that fit it. Anything else is a broken answer, and summing it would
print a wrong bill, so the run stops.

Errors name the response, the row and the field, e.g.
"billingUsage: serverlessCosts[3].promptTokens must be an integer, got 'abc'" or
"billingUsage: serverlessCosts[12].promptTokens: -5 is negative".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from sys import intern
from typing import Any
from zoneinfo import ZoneInfo

from fwcost.fireworks.errors import FireworksParseError
from fwcost.model import (
    DedicatedUsage,
    KeyCost,
    LineItem,
    ServerlessUsage,
    TrainingUsage,
    quick_constructor,
)

NANOS_PER_UNIT = Decimal(1_000_000_000)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# The largest |units| of a Money amount: a trillion dollars, far above any account's day, so
# only a broken answer reaches it. Below it, even a million amounts sum exactly in Decimal's
# default 28 digits (10^12 dollars x 10^9 nanos x 10^6 rows = 10^27), and the nano split of a
# line item (report.attribution.split_nanos) stays exact and quick.
MAX_MONEY_UNITS = 10**12
MAX_NANOS = 999_999_999  # google.type.Money: nanos in [-999,999,999, +999,999,999]
# google.type.Money names its currency; Fireworks bills in US dollars and an omitted code
# (proto3 drops empty strings) is read as USD. Summing another currency as dollars would be wrong.
CURRENCY = "USD"
UNATTRIBUTED_KEY = "unattributed"  # Fireworks' reserved value where a cost has no API key

Row = Mapping[str, Any]

# billingUsage's rows are built by the hundred thousand: without a frozen dataclass's per-field
# cost (model.quick_constructor).
_serverless_usage = quick_constructor(ServerlessUsage)
_dedicated_usage = quick_constructor(DedicatedUsage)
_training_usage = quick_constructor(TrainingUsage)


class MalformedBodyError(ValueError):
    """A 2xx body that is not a JSON object (truncated, HTML from a proxy...): worth a retry."""


def decode_json(body: bytes) -> dict[str, Any]:
    """The body as JSON; NaN and Infinity (Python reads them, JSON has none) become Decimals
    for the field parsers to refuse by name."""
    try:
        document = json.loads(body, parse_float=Decimal, parse_constant=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedBodyError(f"body is not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise MalformedBodyError(f"body is JSON but not an object (a {type(document).__name__})")
    if has_surrogate_escape(body):
        cleaned: dict[str, Any] = _without_lone_surrogates(document)
        return cleaned
    return document


# JSON may escape half of a surrogate pair alone ("\ud800"); such a string cannot be written
# as UTF-8 (CSV, email, files), so a name holding one would fail the run. Rare: only then is
# the document walked.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def has_surrogate_escape(body: bytes) -> bool:
    # Most bodies have no backslash at all, which a byte search rules out several times faster
    # than the pattern's own search (a hundred-MB body: a noticeable part of its decoding).
    return b"\\" in body and _SURROGATE_ESCAPE.search(body) is not None


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class ReportWindow:
    """The inclusive local dates a pull covers, and the timezone that defines them."""

    start: date
    end: date
    tz: ZoneInfo
    # Report day per timestamp text already seen: every row of a day carries the same few
    # startTime strings, and converting one costs more than the rest of its row.
    _days: dict[str, date] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def day_of(self, value: Any, where: str, field: str = "") -> date:
        """The report day a bucket starting at `value` belongs to, kept inside the window;
        an error names `where` + `field` (apart: a row's location is only built for an error).

        A bucket that starts at local midnight is that local date. A bucket that starts at UTC
        midnight but not local midnight is read as a date label (a server that buckets or labels
        days in UTC, or billing/summary where only the date part counts): its UTC date. Anything
        else falls back to the local date of its start. The server only returns data inside the
        requested interval, so a label just outside the window (UTC buckets at its edges) is
        pulled back to the nearest window day instead of being lost.
        """
        known = self._days.get(value) if isinstance(value, str) else None
        if known is None:
            known = self._convert(value, where + field)
            if isinstance(value, str):
                self._days[value] = known
        return known

    def _convert(self, value: Any, where: str) -> date:
        instant = parse_timestamp(value, where)
        local = instant.astimezone(self.tz)
        in_utc = instant.astimezone(UTC)
        is_date_label = local.time() != time(0) and in_utc.time() == time(0)
        day = in_utc.date() if is_date_label else local.date()
        return min(max(day, self.start), self.end)


def parse_timestamp(value: Any, where: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise FireworksParseError(f"{where} must be an RFC 3339 timestamp, got {value!r}")
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise FireworksParseError(f"{where} must be an RFC 3339 timestamp, got {value!r}") from None
    if instant.tzinfo is None:  # proto3 Timestamps are UTC; a bare one can only mean that
        instant = instant.replace(tzinfo=UTC)
    return instant


def parse_int64(value: Any, where: str, *, signed: bool = True) -> int:
    """An int64 as proto3-JSON sends it (a decimal string) or as a JSON number; absent is 0.

    `signed=False` for quantities, which cannot be negative.
    """
    if value is None:
        return 0
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        number = _int_or_none(value)
    elif isinstance(value, Decimal):
        _require_finite(value, where)
        if value.adjusted() > 18:  # int() of 1e999999999 would build a huge integer first
            raise FireworksParseError(f"{where}: {value} is beyond int64")
        if value == value.to_integral_value():
            number = int(value)
    if number is None:
        raise FireworksParseError(f"{where} must be an integer, got {value!r}")
    if not INT64_MIN <= number <= INT64_MAX:
        raise FireworksParseError(f"{where}: {_shown(number)} is beyond int64")
    if number < 0 and not signed:
        raise FireworksParseError(f"{where}: {number} is negative")
    return number


def parse_quantity(value: Any, where: str) -> float:
    """A proto3 double that counts something (seconds, a quantity): a finite number, not
    negative; a JSON number or a numeric string (proto3-JSON allows both)."""
    if value is None:
        return 0.0
    if type(value) is int and 0 <= value <= INT64_MAX:  # the common case: a whole JSON number
        return float(value)
    number: Decimal | None = None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = Decimal(value)  # exact, a float too
    elif isinstance(value, str):
        number = _decimal_or_none(value)
    if number is None:
        raise FireworksParseError(f"{where} must be a number, got {value!r}")
    _require_finite(number, where)
    if abs(float(number)) == float("inf"):
        raise FireworksParseError(f"{where}: {_shown(number)} is beyond a double's range")
    if number < 0:
        raise FireworksParseError(f"{where}: {_shown(number)} is negative")
    return float(number)


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)  # int() strips whitespace itself
    except ValueError:
        return None


def _decimal_or_none(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def _shown(number: int | Decimal) -> str:
    """A number for an error message: whole unless it is absurdly long."""
    text = str(number)
    return text if len(text) <= 40 else f"{text[:20]}… ({len(text)} characters)"


def _require_finite(number: Decimal, where: str) -> None:
    if not number.is_finite():
        raise FireworksParseError(f"{where}: {number} is not a finite number")


def parse_money(value: Any, where: str) -> Decimal:
    """google.type.Money in USD → its amount. units and nanos carry the same sign."""
    if value is None:
        return Decimal(0)
    if not isinstance(value, Mapping):
        raise FireworksParseError(f"{where} must be a Money object, got {value!r}")
    currency = _text(value.get("currencyCode")) or CURRENCY
    if currency != CURRENCY:
        raise FireworksParseError(
            f"{where}.currencyCode: {currency!r} is not {CURRENCY}, the only currency fwcost adds up"
        )
    units = parse_int64(value.get("units"), f"{where}.units")
    nanos = parse_int64(value.get("nanos"), f"{where}.nanos")
    if abs(units) > MAX_MONEY_UNITS:
        raise FireworksParseError(
            f"{where}.units: {units} is beyond {MAX_MONEY_UNITS:,} dollars, not a plausible amount"
        )
    if abs(nanos) > MAX_NANOS:
        raise FireworksParseError(f"{where}.nanos: {nanos} is outside ±{MAX_NANOS:,}")
    if units * nanos < 0:
        raise FireworksParseError(f"{where}: units {units} and nanos {nanos} have different signs")
    return Decimal(units) + Decimal(nanos) / NANOS_PER_UNIT


def parse_serverless(document: Row, window: ReportWindow, source: str) -> list[ServerlessUsage]:
    return [
        serverless_row(row, f"{source}: serverlessCosts[{index}]", window)
        for index, row in _rows(document, "serverlessCosts", source)
    ]


def parse_dedicated(document: Row, window: ReportWindow, source: str) -> list[DedicatedUsage]:
    return [
        dedicated_row(row, f"{source}: dedicatedCosts[{index}]", window)
        for index, row in _rows(document, "dedicatedCosts", source)
    ]


def parse_training(document: Row, window: ReportWindow, source: str) -> list[TrainingUsage]:
    return [
        training_row(row, f"{source}: trainingCosts[{index}]", window)
        for index, row in _rows(document, "trainingCosts", source)
    ]


def serverless_row(row: Row, where: str, window: ReportWindow) -> ServerlessUsage:
    group = _group(row, where)
    cached = _int_field(row, "cachedPromptTokens", where)
    if "promptTokens" in row:
        prompt = _int_field(row, "promptTokens", where)
    else:  # a newer row may split the prompt into cached and uncached parts only
        prompt = cached + _int_field(row, "uncachedPromptTokens", where)
    team, project, environment = _annotations(group)
    # Mostly absent: then neither their parser's call nor their error location is needed.
    audio_seconds = row.get("audioInputSeconds")
    cost_nanos = row.get("costNanoUsd")
    # Positional, in ServerlessUsage's field order: keyword arguments cost more per row.
    return _serverless_usage(
        window.day_of(row.get("startTime"), where, ".startTime"),
        _name(group.get("model_name")) or _name(row.get("modelName")),
        _name(group.get("api_key_id")) or _name(row.get("apiKeyId")),
        _name(group.get("api_key_name")),
        team,
        project,
        environment,
        _name(row.get("usageType")),
        prompt,
        cached,
        _int_field(row, "completionTokens", where),
        0.0
        if audio_seconds is None
        else parse_quantity(audio_seconds, f"{where}.audioInputSeconds"),
        None if cost_nanos is None else _optional_nanos(cost_nanos, f"{where}.costNanoUsd"),
    )


def dedicated_row(row: Row, where: str, window: ReportWindow) -> DedicatedUsage:
    group = _group(row, where)
    team, project, environment = _annotations(group)
    return _dedicated_usage(
        day=window.day_of(row.get("startTime"), where, ".startTime"),
        deployment=_name(group.get("deployment_name")) or _name(row.get("deploymentId")),
        accelerator_type=_name(group.get("accelerator_type")) or _name(row.get("acceleratorType")),
        base_model=_name(row.get("baseModel")) or _name(group.get("base_model")),
        placement=_name(row.get("placement")),
        team=team,
        project=project,
        environment=environment,
        usage_type=_name(row.get("usageType")),
        accelerator_seconds=_int_field(row, "acceleratorSeconds", where),
    )


def training_row(row: Row, where: str, window: ReportWindow) -> TrainingUsage:
    """Training rows are third-party knowledge only: read `group` first, then camelCase fields."""
    group = _group(row, where)
    team, project, environment = _annotations(group)
    return _training_usage(
        day=window.day_of(row.get("startTime"), where, ".startTime"),
        job_id=_name(group.get("job_id")) or _name(row.get("jobId")),
        job_type=_name(group.get("job_type")) or _name(row.get("jobType")),
        base_model=_name(group.get("base_model")) or _name(row.get("baseModel")),
        accelerator_type=_name(group.get("accelerator_type")) or _name(row.get("acceleratorType")),
        team=team,
        project=project,
        environment=environment,
        usage_type=_name(group.get("usage_type")) or _name(row.get("usageType")),
        accelerator_seconds=_int_field(row, "acceleratorSeconds", where),
    )


@dataclass(frozen=True, slots=True)
class SummaryLines:
    """billing/summary's line items by day; `gap` says why they could not be dated, if so."""

    items: list[LineItem]
    gap: str | None = None


def parse_summary(document: Row, window: ReportWindow, source: str) -> SummaryLines:
    buckets = _list(document, "usageBuckets", source)
    if buckets:
        items = []
        for index, bucket in enumerate(buckets):
            where = f"{source}: usageBuckets[{index}]"
            if not isinstance(bucket, Mapping):
                raise FireworksParseError(f"{where} must be an object, got {bucket!r}")
            day = window.day_of(bucket.get("startTime"), f"{where}.startTime")
            items += _line_items(bucket.get("lineItems"), day, f"{where}.lineItems")
        return SummaryLines(items)
    # No buckets: either granularity was ignored or nothing was billed (proto3 omits empty lists).
    totals = _list(document, "lineItems", source)
    if not totals:
        return SummaryLines([])
    if window.days == 1:
        return SummaryLines(_line_items(totals, window.start, f"{source}: lineItems"))
    return SummaryLines(
        [],
        gap=(
            f"billing/summary returned one total for {window.start}..{window.end} without daily "
            "buckets, so the billed amount of a single day is unknown; set FWCOST_WINDOW_DAYS=1 "
            "(one request set per day) and re-run these days to get them"
        ),
    )


@dataclass(frozen=True, slots=True)
class UsageCostsPage:
    rows: list[KeyCost]
    next_page_token: str
    attribution_completeness: str


def parse_usage_costs(document: Row, window: ReportWindow, source: str) -> UsageCostsPage:
    costs = []
    for index, row in _rows(document, "rows", source):
        where = f"{source}: rows[{index}]"
        dimensions = row.get("dimensions") or {}
        if not isinstance(dimensions, Mapping):
            raise FireworksParseError(f"{where}.dimensions must be an object, got {dimensions!r}")
        amount = parse_money(row.get("subtotal"), f"{where}.subtotal")
        model = _text(dimensions.get("model"))
        if not model and dimensions.get("unknownModel") is True:
            model = "unknown_model"
        costs.append(
            KeyCost(
                day=window.day_of(dimensions.get("startTime"), f"{where}.dimensions.startTime"),
                api_key_id=_key_id(dimensions.get("apiKeyId")),
                cost=amount,
                model=model,
                user=_text(dimensions.get("user")),
            )
        )
    return UsageCostsPage(
        rows=costs,
        next_page_token=_text(document.get("nextPageToken")),
        attribution_completeness=_text(document.get("attributionCompleteness")),
    )


def parse_period_summary(document: Row, first_day: date, source: str) -> list[LineItem]:
    """billing/summary over a week or a month, without daily buckets: its line items for the
    whole range (each dated with the range's first day)."""
    return _line_items(_list(document, "lineItems", source), first_day, f"{source}: lineItems")


def _line_items(raw: Any, day: date, where: str) -> list[LineItem]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FireworksParseError(f"{where} must be a list, got {raw!r}")
    items = []
    for index, item in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            raise FireworksParseError(f"{at} must be an object, got {item!r}")
        items.append(
            LineItem(
                day=day,
                category=_text(item.get("category")),
                grouping_key=_text(item.get("groupingKey")),
                grouping_value=_text(item.get("groupingValue")),
                secondary_grouping_key=_text(item.get("secondaryGroupingKey")),
                secondary_grouping_value=_text(item.get("secondaryGroupingValue")),
                series=_text(item.get("series")),
                quantity=parse_quantity(item.get("quantity"), f"{at}.quantity"),
                unit_amount=parse_money(item.get("unitAmount"), f"{at}.unitAmount"),
                total_cost=parse_money(item.get("totalCost"), f"{at}.totalCost"),
            )
        )
    return items


def _rows(document: Row, name: str, source: str) -> list[tuple[int, Row]]:
    rows = []
    for index, row in enumerate(_list(document, name, source)):
        # type() first: JSON gives dicts, and an ABC's isinstance costs more than the row.
        if type(row) is not dict and not isinstance(row, Mapping):
            raise FireworksParseError(f"{source}: {name}[{index}] must be an object, got {row!r}")
        rows.append((index, row))
    return rows


def _list(document: Row, name: str, source: str) -> Sequence[Any]:
    value = document.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FireworksParseError(f"{source}: {name} must be a list, got {value!r}")
    return value


def _group(row: Row, where: str) -> Row:
    group = row.get("group") or {}
    if type(group) is not dict and not isinstance(group, Mapping):
        raise FireworksParseError(f"{where}.group must be an object, got {group!r}")
    return group


def _annotations(group: Row) -> tuple[str, str, str]:
    """team, project, environment, keyed either `annotations.team` or `team` (both seen)."""
    return (
        _name(group.get("annotations.team")) or _name(group.get("team")),
        _name(group.get("annotations.project")) or _name(group.get("project")),
        _name(group.get("annotations.environment")) or _name(group.get("environment")),
    )


def _int_field(row: Row, name: str, where: str) -> int:
    """row[name] as a quantity (an int64, not negative); the common case (a decimal string)
    skips building the error location, which only a failure needs."""
    value = row.get(name)
    if type(value) is str:
        try:
            number = int(value)  # int() strips whitespace itself, as parse_int64 does
        except ValueError:
            pass
        else:
            if 0 <= number <= INT64_MAX:
                return number
    return parse_int64(value, f"{where}.{name}", signed=False)


def _key_id(value: Any) -> str:
    """A bare key id: a resource name (…/apiKeys/key_x) is cut to its id; none is unattributed."""
    text = _text(value)
    return text.rsplit("/", 1)[-1] if text else UNATTRIBUTED_KEY


def _optional_nanos(value: Any, where: str) -> int | None:
    """costNanoUsd: absent is None; a JSON number with a fraction is rounded (sub-nano parts
    carry nothing). int64 bounds it to $9.2 billion, below MAX_MONEY_UNITS."""
    if value is None:
        return None
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() <= 18:
        value = value.to_integral_value()
    return parse_int64(value, where)


def _name(value: Any) -> str:
    """A dimension's text, interned: a day's million rows name a few thousand models, keys and
    teams, and one shared string each instead of one per row is hundreds of MB at that size."""
    return intern(value if type(value) is str else _text(value))


def _text(value: Any) -> str:
    if type(value) is str:  # the common case, before isinstance (a subclass of str)
        return value
    return value if isinstance(value, str) else ("" if value is None else str(value))
