"""Share the day's bill out over usage rows, so every grouping adds up to the rated total.

Method, per billing/summary line item:
- find the usage rows it covers (text completion by model, a `model_bucket` item over the models
  that have no item of their own, audio by audio seconds, dedicated by deployment or accelerator,
  training likewise); is_batch items prefer batch rows;
- share its billed cost over those rows in proportion to price-book-weighted tokens (GPU items:
  accelerator-seconds, weighted by the hourly price when the item spans accelerator types);
- where usageCosts:query gave per-key dollars, re-balance the text/audio shares between keys so
  each key's total follows Fireworks' per-key figures while every line item still adds up;
- an item that covers no usage row becomes a "Billed, not in usage data" row of its category;
- a usage row no item covers is priced from the price book and flagged as estimated.
Amounts are exact to the nano-dollar (Fireworks' Money precision), split by largest remainder.
Then each row's dollars (and each billed-only item's) become whole cents, once (cents.py): every
group's cents are the sum of its rows' cents.

The work is columnar: the rows become numpy columns once (int64 tokens and nano-dollars, text as
interned codes), and the weights, key balancing, splits, rounding and groupings run over whole
columns. Decimal stays at the edges (line items and key costs in, exact dollars out). Every float
is the same operation in the same order as the per-row code this replaced, so the nanos, cents
and attribution.json are the same (tests/unit/report/test_columns_match_reference.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from fwcost.model import DayUsage, DedicatedUsage, LineItem, ServerlessUsage, TrainingUsage
from fwcost.report.cents import (
    NANOS_PER_DOLLAR,
    cents_of,
    money,
    nanos_of,
    split_cents,
    split_cents_array,
)
from fwcost.report.groups import (
    ZERO,
    Amount,
    DeploymentGroup,
    KeyGroup,
    PriceCheck,
    TeamCents,
    TeamGroups,
)
from fwcost.report.pricebook import SECONDS_PER_MINUTE, PriceBook, short_model_id

NANO = Decimal("0.000000001")
# attribution.json: version 2 adds the cents of every amount next to its exact dollars; version 1
# (exact dollars only) is still read, its cents worked out as it is read (_fill_cents).
JSON_VERSION = 2
READABLE_VERSIONS = (1, 2)
KEY_BALANCING_ROUNDS = 30
UNATTRIBUTED_KEY = "unattributed"

# The usage streams, as a deployment group's kind names them.
SERVERLESS, DEDICATED, TRAINING = "serverless", "dedicated", "training"

ESTIMATED_NOTE = "Not on Fireworks' bill for the day, so counted at list price: "
NO_BILL_NOTE = (
    "NO BILL: Fireworks' billing summary did not answer, so every dollar here is a "
    "price-book estimate, not a billed amount. Estimates can be far from the bill."
)
NO_KEY_COSTS_NOTE = (
    "Fireworks gave no per-key costs (usageCosts:query refused or failed), so each API key's "
    "dollars are its share of the tokens at list price."
)
UNPRICED_NOTE = "No price for accelerator "
KEY_COSTS_NOTE = "Dollars per API key follow Fireworks' own per-key costs"
_ACCOUNT_NOTES_SAFE_FOR_TEAMS = (NO_BILL_NOTE, NO_KEY_COSTS_NOTE, UNPRICED_NOTE)


@dataclass(frozen=True, slots=True)
class BilledOnlyRow:
    """A line item with no usage row to carry it (e.g. embeddings, not in billingUsage yet)."""

    category: str
    detail: str
    cost: Decimal
    cents: int


class RowCosts(Sequence[Decimal]):
    """Rows' exact costs, kept as integer nano-dollars and made Decimal when read: a
    million-row day's costs as Decimal objects would be over 100 MB that only an audit reads."""

    def __init__(self, nanos: NDArray[np.int64], exact: NDArray[np.bool_]) -> None:
        self._nanos = nanos
        self._exact = exact  # False: no exact cost (a price-book estimate), read as 0

    def __len__(self) -> int:
        return len(self._nanos)

    @overload
    def __getitem__(self, index: int) -> Decimal: ...
    @overload
    def __getitem__(self, index: slice) -> list[Decimal]: ...
    def __getitem__(self, index: int | slice) -> Decimal | list[Decimal]:
        if isinstance(index, slice):
            return list(RowCosts(self._nanos[index], self._exact[index]))
        return _nano_dollars(int(self._nanos[index]), bool(self._exact[index]))

    def __iter__(self) -> Iterator[Decimal]:
        return map(_nano_dollars, self._nanos.tolist(), self._exact.tolist())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, as a list


def _nano_dollars(nanos: int, exact: bool) -> Decimal:
    return Decimal(nanos).scaleb(-9) if exact else ZERO


@dataclass(slots=True)
class AttributedDay:
    """One day's dollars by group. Row costs align with the DayUsage lists they came from.

    Exact dollars (`total`, `cost`) are for audit and for noticing a restated day; reports print
    the cents (`total_cents`, `cents`), which are sums of the rows' cents.
    """

    day: date
    teams: dict[str, TeamGroups]
    billed_only: dict[str, Amount]  # category -> cost and cents
    total: Decimal
    total_cents: int
    billed_total: Decimal | None  # None: no bill (billing/summary did not answer)
    estimated_total: Decimal  # part of total priced from the price book
    estimated_cents: int
    key_source: str  # "usage_costs" or "allocation"
    price_checks: list[PriceCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    # Per-row costs and cents, aligned with usage.serverless / dedicated / training (the CSV has
    # the cents; the exact costs are not archived, attribute_day gives them again from the raw).
    serverless_costs: Sequence[Decimal] = field(default_factory=list)
    dedicated_costs: Sequence[Decimal] = field(default_factory=list)
    training_costs: Sequence[Decimal] = field(default_factory=list)
    serverless_cents: list[int] = field(default_factory=list)
    dedicated_cents: list[int] = field(default_factory=list)
    training_cents: list[int] = field(default_factory=list)
    billed_only_rows: list[BilledOnlyRow] = field(default_factory=list)

    @property
    def has_bill(self) -> bool:
        return self.billed_total is not None

    @property
    def is_empty(self) -> bool:
        return not self.teams and not self.billed_only and self.total == 0

    def for_team(self, team: str) -> AttributedDay:
        """This team's slice alone: no other team, no billed-only rows, no account-wide checks."""
        groups = self.teams.get(team) or TeamGroups()
        amount = groups.amount
        notes = [note for note in self.notes if note.startswith(_ACCOUNT_NOTES_SAFE_FOR_TEAMS)]
        guessed = sorted(
            name
            for name, value in [*groups.models.items()]
            + [(n, d.amount) for n, d in groups.deployments.items()]
            if value.estimated
        )
        if guessed and self.has_bill:
            notes.insert(0, ESTIMATED_NOTE + ", ".join(guessed))
        if self.key_source == "usage_costs":
            notes.append(KEY_COSTS_NOTE + ", adjusted to add up to the bill.")
        return AttributedDay(
            day=self.day,
            teams={team: groups} if team in self.teams else {},
            billed_only={},
            total=amount.cost,
            total_cents=amount.cents,
            billed_total=None if self.billed_total is None else amount.cost - amount.estimated,
            estimated_total=amount.estimated,
            estimated_cents=amount.estimated_cents,
            key_source=self.key_source,
            notes=notes,
            gaps=list(self.gaps),
        )

    def to_json(self) -> dict[str, Any]:
        """attribution.json: exact dollars as strings (audit), cents as integers (reports)."""
        return {
            "version": JSON_VERSION,
            "day": self.day.isoformat(),
            "total": str(self.total),
            "total_cents": self.total_cents,
            "billed_total": None if self.billed_total is None else str(self.billed_total),
            "estimated_total": str(self.estimated_total),
            "estimated_cents": self.estimated_cents,
            "key_source": self.key_source,
            "teams": {name: groups.to_json() for name, groups in self.teams.items()},
            "billed_only": {name: amount.to_json() for name, amount in self.billed_only.items()},
            "price_checks": [check.to_json() for check in self.price_checks],
            "notes": self.notes,
            "gaps": self.gaps,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> AttributedDay:
        version = _readable_version(document)
        billed = document.get("billed_total")
        day = cls(
            day=date.fromisoformat(document["day"]),
            teams={k: TeamGroups.from_json(v) for k, v in document["teams"].items()},
            billed_only={
                k: Amount.from_json(v if version > 1 else {"cost": v})
                for k, v in document["billed_only"].items()
            },
            total=Decimal(document["total"]),
            total_cents=int(document.get("total_cents", 0)),
            billed_total=None if billed is None else Decimal(billed),
            estimated_total=Decimal(document["estimated_total"]),
            estimated_cents=int(document.get("estimated_cents", 0)),
            key_source=document["key_source"],
            price_checks=[PriceCheck.from_json(c) for c in document.get("price_checks", [])],
            notes=list(document.get("notes", [])),
            gaps=list(document.get("gaps", [])),
        )
        if version == 1:
            _fill_cents(day)
        return day


@dataclass(frozen=True, slots=True)
class HistoryDay:
    """An earlier day as a daily report reads it: cents per team, key, model and deployment.

    The report compares today with 30 such days (summary.py) and prints only cents of them, so
    their exact dollars, tokens, projects and environments are not read back.
    """

    day: date
    total_cents: int
    teams: dict[str, TeamCents]

    @classmethod
    def of(cls, day: AttributedDay) -> HistoryDay:
        teams = {name: TeamCents.of(groups) for name, groups in day.teams.items()}
        return cls(day.day, day.total_cents, teams)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> HistoryDay:
        """An archived attribution.json's cents; a version 1 day's are worked out (_fill_cents)."""
        if _readable_version(document) == 1:
            return cls.of(AttributedDay.from_json(document))
        teams = {name: TeamCents.from_json(groups) for name, groups in document["teams"].items()}
        return cls(date.fromisoformat(document["day"]), document["total_cents"], teams)

    def for_team(self, team: str) -> HistoryDay:
        """This team's slice alone, as AttributedDay.for_team's."""
        groups = self.teams.get(team)
        if groups is None:
            return HistoryDay(self.day, 0, {})
        return HistoryDay(self.day, groups.cents, {team: groups})


def _readable_version(document: dict[str, Any]) -> int:
    version = document.get("version")
    if version not in READABLE_VERSIONS:
        raise ValueError(f"attribution.json version {version!r} is not one of {READABLE_VERSIONS}")
    return int(version)


def _fill_cents(day: AttributedDay) -> None:
    """Cents for a version 1 day, which archived exact dollars only (no rows to round).

    By the same rule a level at a time: the teams and billed-only rows against the day's total,
    then each of a team's breakdowns against the team. Its tables add up as a version 2 day's do,
    and each figure is within a cent or so of its exact dollars.
    """
    day.total_cents = cents_of(day.total)
    day.estimated_cents = cents_of(day.estimated_total)
    _apportion(
        [*(groups.amount for groups in day.teams.values()), *day.billed_only.values()],
        day.total_cents,
    )
    for groups in day.teams.values():
        for breakdown in groups.breakdowns():
            _apportion(breakdown, groups.amount.cents)


def _apportion(amounts: list[Amount], total_cents: int) -> None:
    cents = split_cents([nanos_of(amount.cost) for amount in amounts], total_cents)
    for amount, value in zip(amounts, cents, strict=True):
        amount.cents = value
        # Only today's estimated part is ever printed, and today is never read back.
        amount.estimated_cents = cents_of(amount.estimated)


def attribute_day(usage: DayUsage, prices: PriceBook) -> AttributedDay:
    """Dollars per usage row and per group; every grouping sums exactly to `total`."""
    return _Attribution(usage, prices).run()


def is_batch(row: ServerlessUsage) -> bool:
    return "BATCH" in row.usage_type.upper()


def is_audio(row: ServerlessUsage) -> bool:
    no_tokens = row.prompt_tokens == 0 and row.completion_tokens == 0
    return "AUDIO" in row.usage_type.upper() or (row.audio_input_seconds > 0 and no_tokens)


def split_nanos(total: Decimal, weights: Sequence[float]) -> list[Decimal]:
    """Split `total` in proportion to weights, exactly, by largest remainder at nano precision.

    Zero total weight splits evenly. The sign of `total` is kept on every share.
    """
    count = len(weights)
    nanos = int((abs(total) * NANOS_PER_DOLLAR).to_integral_value(ROUND_HALF_EVEN))
    weight_sum = sum(weights)
    shares = list(weights) if weight_sum > 0 else [1.0] * count
    weight_sum = sum(shares)
    exact: list[float] | list[Fraction] = [nanos * share / weight_sum for share in shares]
    floors = [int(value) for value in exact]
    if not 0 <= nanos - sum(floors) <= count:
        # Floats ran out of precision (a total past 2^53 nanos, about $9M) or rounded a share
        # up across a whole nano: the same split in exact fractions (slower, so only then).
        exact_sum = sum(map(Fraction, shares))
        exact = [nanos * Fraction(share) / exact_sum for share in shares]
        floors = [int(value) for value in exact]
    leftover = nanos - sum(floors)
    assert 0 <= leftover <= count, "largest remainder hands out at most one nano per share"
    by_remainder = sorted(range(count), key=lambda i: exact[i] - floors[i], reverse=True)
    for position in range(leftover):
        floors[by_remainder[position % count]] += 1
    sign = -1 if total < 0 else 1
    return [Decimal(sign * value) * NANO for value in floors]


def split_nanos_array(total: Decimal, weights: NDArray[np.float64]) -> NDArray[np.int64]:
    """`split_nanos` over a numpy column of weights, in whole signed nano-dollars: the same
    floats in the same order (Python's own `sum` for the totals), so the same nanos.

    A split the floats cannot do exactly goes to `split_nanos` (its exact fractions).
    """
    count = len(weights)
    nanos = int((abs(total) * NANOS_PER_DOLLAR).to_integral_value(ROUND_HALF_EVEN))
    weight_sum = sum(weights.tolist())
    shares = weights if weight_sum > 0 else np.ones(count)
    weight_sum = sum(shares.tolist())
    exact = float(nanos) * shares / weight_sum if nanos < 2**62 else None
    floors = None if exact is None else exact.astype(np.int64)
    if floors is None or exact is None or not 0 <= nanos - int(floors.sum()) <= count:
        return np.array([int(share.scaleb(9)) for share in split_nanos(total, weights.tolist())])
    leftover = nanos - int(floors.sum())
    floors[_largest_remainders(floors - exact, leftover)] += 1
    signed: NDArray[np.int64] = -floors if total < 0 else floors
    return signed


def _largest_remainders(shortfall: NDArray[np.float64], count: int) -> NDArray[np.int64]:
    """The `count` positions whose floor fell furthest short (the most negative `shortfall`),
    ties to the earlier position: the first `count` of a stable sort, found by a partition
    (linear) instead of sorting the whole column."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    cut = np.partition(shortfall, count - 1)[count - 1]
    below = np.flatnonzero(shortfall < cut)
    at_cut = np.flatnonzero(shortfall == cut)[: count - len(below)]
    return np.concatenate([below, at_cut])


@dataclass(slots=True)
class _Claim:
    """One line item, the units (usage rows) it covers and each one's current share."""

    item: LineItem
    units: NDArray[np.int64]
    shares: NDArray[np.float64]


class _Units:
    """The day's usage rows as columns, one position (a unit) per row: the serverless rows,
    then dedicated, then training. Text is interned: a column holds codes into `text`, one
    vocabulary for every column, so grouping and ordering work on integers."""

    def __init__(self, usage: DayUsage) -> None:
        self._codes: dict[str, int] = {"": 0}
        self.text: list[str] = [""]  # code -> text
        serverless, dedicated, training = usage.serverless, usage.dedicated, usage.training
        gpu: list[DedicatedUsage | TrainingUsage] = [*dedicated, *training]
        self.serverless, self.dedicated = len(serverless), len(dedicated)
        self.count = len(serverless) + len(gpu)
        no_text, no_number = [""] * len(gpu), [0] * len(gpu)
        self.stream = np.repeat(
            np.array([0, 1, 2], dtype=np.int8), [len(serverless), len(dedicated), len(training)]
        )
        self.team = self.code([r.team for r in serverless] + [r.team for r in gpu])
        self.project = self.code([r.project for r in serverless] + [r.project for r in gpu])
        self.environment = self.code(
            [r.environment for r in serverless] + [r.environment for r in gpu]
        )
        self.key = self.code([r.api_key_id for r in serverless] + no_text)
        self.key_name = self.code([r.api_key_name for r in serverless] + no_text)
        # What the rounding's order names last: the model, the deployment, the job.
        self.item = self.code(
            [r.model for r in serverless]
            + [r.deployment for r in dedicated]
            + [r.job_id for r in training]
        )
        self.accelerator = self.code([""] * len(serverless) + [r.accelerator_type for r in gpu])
        usage_types = self.code([r.usage_type for r in serverless])
        self.prompt = self.numbers([r.prompt_tokens for r in serverless] + no_number)
        self.cached = self.numbers([r.cached_prompt_tokens for r in serverless] + no_number)
        self.completion = self.numbers([r.completion_tokens for r in serverless] + no_number)
        self.gpu_seconds = self.numbers(
            [0] * len(serverless) + [r.accelerator_seconds for r in gpu]
        )
        self.audio_seconds = np.array(
            [r.audio_input_seconds for r in serverless] + no_number, dtype=np.float64
        )
        # The name reports group by: a model's or deployment's short id.
        short = np.zeros(len(self._codes), dtype=np.int64)
        for code in np.unique(self.item).tolist():
            short[code] = self._code(short_model_id(self.text[code]))
        self.label = short[self.item]
        usage_type = np.concatenate([usage_types, np.zeros(len(gpu), dtype=np.int64)])
        is_serverless = self.stream == 0
        self.batch = is_serverless & self._marks(usage_type, "BATCH")
        no_tokens = (self.prompt == 0) & (self.completion == 0)
        self.audio = is_serverless & (
            self._marks(usage_type, "AUDIO") | ((self.audio_seconds > 0) & no_tokens)
        )

    def _marks(self, codes: NDArray[np.int64], word: str) -> NDArray[np.bool_]:
        """Whether each code's text holds `word`, in any case (a usage type's kind)."""
        holds = np.zeros(len(self._codes), dtype=np.bool_)
        for code in np.unique(codes).tolist():
            holds[code] = word in self.text[code].upper()
        return holds[codes]

    def code(self, values: list[str]) -> NDArray[np.int64]:
        """The column of `values` as codes (a new text gets the next code)."""
        for value in dict.fromkeys(values):  # each distinct value once, in order
            self._code(value)
        return np.array(list(map(self._codes.__getitem__, values)), dtype=np.int64)

    def _code(self, value: str) -> int:
        if value not in self._codes:
            self._codes[value] = len(self.text)
            self.text.append(value)
        return self._codes[value]

    def lookup(self, value: str) -> int:
        """The code of a text, or -1 when no row holds it."""
        return self._codes.get(value, -1)

    @staticmethod
    def numbers(values: list[int]) -> NDArray[np.int64]:
        return np.array(values, dtype=np.int64)

    def kind(self, unit: int) -> str:
        return (SERVERLESS, DEDICATED, TRAINING)[int(self.stream[unit])]

    def check_label(self, unit: int) -> str:
        if unit < self.serverless:
            return self.text[int(self.label[unit])]
        return f"{self.kind(unit)} {self.text[self.accelerator[unit]]}"


class _Estimates:
    """The price book's dollars for every unit, exact as `PriceBook` works them out in Decimal.

    Serverless token costs are integers of 10^-K dollars, worked out in int64 per model and
    batch kind: (prompt − cached) × input + cached × cached input + completion × output, in
    the prices' own decimal places, × the batch fraction's. Then their floats (weights) are
    one correctly rounded division, as float(Decimal) is. Rows with audio seconds, GPU rows
    and any day whose numbers would not fit int64 exactly go through the PriceBook in Decimal.
    """

    def __init__(self, usage: DayUsage, units: _Units, book: PriceBook) -> None:
        count = units.count
        self.floats = np.zeros(count)
        self.nanos = np.zeros(count, dtype=np.int64)
        self.priced = np.ones(count, dtype=np.bool_)
        self.decimals: dict[int, Decimal | None] = {}  # where worked out in Decimal
        self.in_decimals = np.zeros(count, dtype=np.bool_)
        self._scaled = np.zeros(count, dtype=np.int64)  # the dollars × 10^K, where exact
        self._exponents = np.zeros(count, dtype=np.int64)  # the Decimal's exponent, where exact
        self._places = 0
        serverless = np.arange(units.serverless)
        slow = serverless[units.audio_seconds[: units.serverless] > 0]
        if not self._token_costs(units, book, serverless):
            slow = serverless
        for unit in slow.tolist():
            row = usage.serverless[unit]
            cost = book.token_cost(
                row.model, row.prompt_tokens, row.cached_prompt_tokens, row.completion_tokens,
                batch=bool(units.batch[unit]),
            )  # fmt: skip
            self._set(unit, cost + book.audio_cost(row.audio_input_seconds))
        gpu: list[DedicatedUsage | TrainingUsage] = [*usage.dedicated, *usage.training]
        for unit, row in enumerate(gpu, start=units.serverless):
            self._set(unit, book.gpu_cost(row.accelerator_type, row.accelerator_seconds))

    def _set(self, unit: int, cost: Decimal | None) -> None:
        self.decimals[unit] = cost
        self.in_decimals[unit] = True
        if cost is None:
            self.priced[unit] = False
            return
        self.floats[unit] = float(cost)
        self.nanos[unit] = int(cost.quantize(NANO, ROUND_HALF_EVEN).scaleb(9))

    def _token_costs(self, units: _Units, book: PriceBook, rows: NDArray[np.int64]) -> bool:
        """The serverless rows' token costs in int64; False where they would not fit exactly."""
        if not len(rows):
            return True
        kinds, kind_of_row = np.unique(
            units.label[rows] * 2 + units.batch[rows], return_inverse=True
        )
        coefficients, exponents = [], []
        for kind in kinds.tolist():
            price = book.token_price(units.text[kind // 2])
            scale = book.batch_fraction if kind % 2 else Decimal(1)
            places = min(
                _exponent(price.input), _exponent(price.cached_input), _exponent(price.output)
            )
            coefficients.append(
                [_scaled(price.input, places), _scaled(price.cached_input, places),
                 _scaled(price.output, places), _scaled(scale, _exponent(scale))]
            )  # fmt: skip
            exponents.append(places + _exponent(scale))
        kind_prices = np.array(coefficients, dtype=object)
        if max(abs(int(value)) for value in kind_prices.flat) >= 2**31:
            return False
        prices = kind_prices.astype(np.int64)[kind_of_row]
        exponent = np.array(exponents, dtype=np.int64)[kind_of_row]
        lowest = int(exponent.min())
        self._places = 6 - lowest  # token prices are per million tokens
        shift = exponent - lowest
        prompt, completion = units.prompt[rows], units.completion[rows]
        cached = np.minimum(units.cached[rows], prompt)
        bound = (
            (prompt.astype(np.float64) + completion)
            * np.abs(prices).max(axis=1).astype(np.float64)
            * np.abs(prices[:, 3]).astype(np.float64)
            * 10.0 ** shift.astype(np.float64)
        )
        if not 6 <= self._places <= 22 or float(bound.max()) >= 2**52:
            return False
        dollars = (
            (prompt - cached) * prices[:, 0] + cached * prices[:, 1] + completion * prices[:, 2]
        )
        coefficient = dollars * prices[:, 3]
        scaled = coefficient * 10**shift
        self._scaled[rows] = scaled
        self.floats[rows] = scaled / 10.0**self._places
        self.nanos[rows] = _round_half_even(scaled, self._places - 9)
        # Decimal's division by a million keeps the dividend's exponent unless the quotient
        # needs more places; the zero audio cost added to every row has its own exponent.
        trailing = sum((coefficient % 10**k == 0).astype(np.int64) for k in range(1, 7))
        audio_zero = Decimal("0.0") / SECONDS_PER_MINUTE * book.audio_usd_per_minute
        self._exponents[rows] = np.minimum(
            exponent - np.maximum(0, 6 - trailing), _exponent(audio_zero)
        )
        return True

    def total(self, units: NDArray[np.int64]) -> Decimal | None:
        """The units' estimates summed as Decimals from ZERO (a zero counts as ZERO), or None
        when one has no price."""
        if not self.priced[units].all():
            return None
        if self.in_decimals[units].any():
            return sum((self._decimal(unit) or ZERO for unit in units.tolist()), ZERO)
        scaled = self._scaled[units]
        nonzero = scaled != 0
        if not nonzero.any():
            return ZERO
        exponent = min(0, int(self._exponents[units][nonzero].min()))
        exact = Decimal(sum(scaled.tolist())).scaleb(-self._places)
        return exact.quantize(Decimal(1).scaleb(exponent))

    def _decimal(self, unit: int) -> Decimal | None:
        if unit in self.decimals:
            return self.decimals[unit]
        scaled = int(self._scaled[unit])
        if not scaled:
            return ZERO
        exact = Decimal(scaled).scaleb(-self._places)
        return exact.quantize(Decimal(1).scaleb(int(self._exponents[unit])))


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int), "prices are finite"
    return exponent


def _scaled(value: Decimal, exponent: int) -> int:
    return int(value.scaleb(-exponent))


def _round_half_even(scaled: NDArray[np.int64], places: int) -> NDArray[np.int64]:
    """scaled × 10^-places, to the integer, half to even (Decimal's quantize, ROUND_HALF_EVEN)."""
    if places <= 0:
        whole: NDArray[np.int64] = scaled * 10 ** (-places)
        return whole
    unit = 10**places
    quotient, remainder = np.divmod(scaled, unit)
    up = (2 * remainder > unit) | ((2 * remainder == unit) & (quotient % 2 == 1))
    rounded: NDArray[np.int64] = quotient + up
    return rounded


class _Attribution:
    def __init__(self, usage: DayUsage, prices: PriceBook) -> None:
        self.usage = usage
        self.units = _Units(usage)
        self.estimates = _Estimates(usage, self.units, prices)
        self.notes: list[str] = []

    # ---- the steps, in order -------------------------------------------------------------
    def run(self) -> AttributedDay:
        claims, billed_only = self._claims() if self.usage.has_summary else ([], [])
        if self.usage.key_costs is not None and claims:
            self._balance_keys(claims)
        nanos = np.zeros(self.units.count, dtype=np.int64)
        claimed = np.zeros(self.units.count, dtype=np.bool_)
        for claim in claims:
            nanos[claim.units] += split_nanos_array(claim.item.total_cost, claim.shares)
            claimed[claim.units] = True
        estimated = ~claimed
        nanos[estimated] = self.estimates.nanos[estimated]
        unpriced = estimated & ~self.estimates.priced
        if unpriced.any():
            names = {self.units.text[code] for code in self.units.accelerator[unpriced].tolist()}
            self.notes.append(
                UNPRICED_NOTE
                + ", ".join(sorted(names))
                + " in the price book: its unbilled GPU time is counted at $0."
            )
        # A unit's exact dollars are nano-dollars (Decimal exponent -9), except an unpriced
        # estimate: Decimal 0.
        return self._assemble(claims, billed_only, nanos, estimated, ~unpriced)

    def _claims(self) -> tuple[list[_Claim], list[LineItem]]:
        """The line items that cover usage rows, and those billed with no usage row to carry."""
        claims: list[_Claim] = []
        billed_only: list[LineItem] = []
        buckets: list[LineItem] = []
        for item in self.usage.line_items:
            if _family(item) == "text" and item.grouping_key.lower() != "model":
                # model_bucket (or no grouping): covers the models without an item of their own
                buckets.append(item)
                continue
            covers = self._units_for(item)
            if len(covers):
                claims.append(_Claim(item, covers, self._weights(covers)))
            elif item.total_cost:
                billed_only.append(item)
        units = self.units
        covered = np.zeros(units.count, dtype=np.bool_)
        for claim in claims:
            covered[claim.units] = True
        pool = (units.stream == 0) & ~covered & ~units.audio
        for item in buckets:
            chosen = np.flatnonzero(self._prefer_batch(item, pool))
            if len(chosen):
                claims.append(_Claim(item, chosen, self._weights(chosen)))
            elif item.total_cost:
                billed_only.append(item)
        return claims, billed_only

    def _units_for(self, item: LineItem) -> NDArray[np.int64]:
        family = _family(item)
        key = item.grouping_key.lower()
        value = item.grouping_value
        units = self.units
        if family in ("text", "audio"):
            rows = (units.stream == 0) & (units.audio == (family == "audio"))
            if key == "model":
                rows &= units.label == units.lookup(short_model_id(value))
            return np.flatnonzero(self._prefer_batch(item, rows))
        if family == "dedicated":
            found = [
                unit
                for unit, row in enumerate(self.usage.dedicated, start=units.serverless)
                if _gpu_match(key, value, row.deployment, row.accelerator_type, row.base_model)
            ]
            return np.array(found, dtype=np.int64)
        if family == "training":
            start = units.serverless + units.dedicated
            found = [
                unit
                for unit, job in enumerate(self.usage.training, start=start)
                if _gpu_match(key, value, job.job_id, job.accelerator_type, job.base_model)
            ]
            return np.array(found, dtype=np.int64)
        return np.zeros(0, dtype=np.int64)

    def _prefer_batch(self, item: LineItem, rows: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Rows of the item's batch kind when usage tells batch apart; otherwise all of them."""
        flag = _batch_flag(item)
        if flag is None:
            return rows
        matching = rows & (self.units.batch == flag)
        return matching if matching.any() else rows

    def _weights(self, units: NDArray[np.int64]) -> NDArray[np.float64]:
        if units[0] < self.units.serverless:
            return self.estimates.floats[units]
        priced = self.estimates.priced[units]
        accelerators = set(self.units.accelerator[units].tolist())
        if len(accelerators) > 1 and priced.all():
            return self.estimates.floats[units]
        return self.units.gpu_seconds[units].astype(np.float64)

    def _balance_keys(self, claims: list[_Claim]) -> None:
        """Iterative proportional fitting: keys towards usageCosts:query, items kept exact."""
        key_costs: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for entry in self.usage.key_costs or []:
            key_costs[entry.api_key_id] += entry.cost
        units = self.units
        serverless_claims = [c for c in claims if c.units[0] < units.serverless]
        if not serverless_claims:
            return
        present = np.unique(np.concatenate([units.key[c.units] for c in serverless_claims]))
        adjustable = sorted(
            key
            for key in (units.text[code] for code in present.tolist())
            if key_costs.get(key, ZERO) > 0
        )
        if not adjustable:
            return
        # A round multiplies every row's share by its key's factor, then every claim's shares by
        # that claim's rescale to its billed amount. So after any number of rounds a row's share
        # is its starting share × its key's product of factors × its claim's product of
        # rescales, and the rounds only need each claim's starting shares summed per key: far
        # fewer pairs than rows. Slot 0 stands for the keys that are not adjusted (factor 1).
        # Every float below is the same operation, in the same order, as the scalar rounds
        # this replaced (sums in row order; Python's own sum where it summed a list).
        slot_of_code = np.zeros(len(units.text), dtype=np.int64)
        for position, key in enumerate(adjustable, start=1):
            slot_of_code[units.lookup(key)] = position
        slots = len(adjustable) + 1
        claim_slots = [slot_of_code[units.key[c.units]] for c in serverless_claims]
        pair_claim, pair_slot, pair_weight, bounds = [], [], [], [0]
        for index, (claim, row_slots) in enumerate(
            zip(serverless_claims, claim_slots, strict=True)
        ):
            per_slot = np.bincount(row_slots, weights=claim.shares, minlength=slots)
            found, first = np.unique(row_slots, return_index=True)
            in_order = found[np.argsort(first)]  # as a dict fills: by first appearance
            pair_claim.append(np.full(len(in_order), index))
            pair_slot.append(in_order)
            pair_weight.append(per_slot[in_order])
            bounds.append(bounds[-1] + len(in_order))
        claim_of_pair = np.concatenate(pair_claim)
        slot_of_pair = np.concatenate(pair_slot)
        weight_of_pair = np.concatenate(pair_weight)
        wanted = np.array([0.0] + [float(key_costs[key]) for key in adjustable])
        wanted_total = sum(wanted.tolist())
        key_scale = np.ones(slots)
        claim_scale = [1.0] * len(serverless_claims)
        billed = [float(claim.item.total_cost) for claim in serverless_claims]
        for _ in range(KEY_BALANCING_ROUNDS):
            rescaled = np.array(claim_scale)[claim_of_pair] * weight_of_pair
            current = key_scale * np.bincount(slot_of_pair, weights=rescaled, minlength=slots)
            # Keys keep their combined share; only the split between them follows usageCosts.
            scale = sum(current[1:].tolist()) / wanted_total
            moved = 1 + np.flatnonzero(current[1:] > 0)
            key_scale[moved] *= wanted[moved] * scale / current[moved]
            products = (key_scale[slot_of_pair] * weight_of_pair).tolist()
            for index in range(len(serverless_claims)):
                item_sum = claim_scale[index] * sum(products[bounds[index] : bounds[index + 1]])
                if item_sum > 0:
                    claim_scale[index] *= billed[index] / item_sum
        for claim, row_slots, rescale in zip(
            serverless_claims, claim_slots, claim_scale, strict=True
        ):
            claim.shares = claim.shares * key_scale[row_slots] * rescale

    # ---- putting the day together ------------------------------------------------------------
    def _assemble(
        self,
        claims: list[_Claim],
        billed_only_items: list[LineItem],
        nanos: NDArray[np.int64],
        estimated: NDArray[np.bool_],
        in_nanos: NDArray[np.bool_],
    ) -> AttributedDay:
        usage, units = self.usage, self.units
        # Every attributed unit (rows stream by stream, then billed-only items, the CSV's order)
        # becomes cents here, once; everything below sums these cents. The running total that
        # rounds them goes through them by team, project, environment, key and model, so each of
        # those groups shows its exact dollars to within a cent (cents.split_cents).
        all_nanos = np.concatenate(
            [nanos, np.array([nanos_of(i.total_cost) for i in billed_only_items], dtype=np.int64)]
        )
        order = self._rounding_order(len(billed_only_items))
        unit_cents = np.empty_like(all_nanos)
        unit_cents[order] = split_cents_array(all_nanos[order])
        cents = unit_cents[: units.count]
        billed_only = [
            _billed_only(item, item_cents)
            for item, item_cents in zip(
                billed_only_items, unit_cents[units.count :].tolist(), strict=True
            )
        ]
        billed_by_category: dict[str, Amount] = defaultdict(Amount)
        for row in billed_only:
            billed_by_category[row.category].add(Amount(cost=row.cost, cents=row.cents))
        estimated_total = _dollars(int(nanos[estimated].sum()), bool((estimated & in_nanos).any()))
        billed_total = (
            sum((item.total_cost for item in usage.line_items), ZERO) if usage.has_summary else None
        )
        row_cents = cents.tolist()
        serverless, gpu_end = units.serverless, units.serverless + units.dedicated
        return AttributedDay(
            day=usage.day,
            teams=_Groups(units, nanos, cents, estimated, in_nanos).teams(),
            billed_only=dict(billed_by_category),
            total=(billed_total or ZERO) + estimated_total,
            total_cents=int(unit_cents.sum()),
            billed_total=billed_total,
            estimated_total=estimated_total,
            estimated_cents=int(cents[estimated].sum()),
            key_source="usage_costs" if usage.key_costs is not None else "allocation",
            price_checks=self._price_checks(claims, estimated, nanos, cents, in_nanos),
            notes=self._method_notes(estimated, billed_only)
            + self._key_note(claims, estimated, cents)
            + self.notes,
            gaps=list(usage.gaps),
            serverless_costs=RowCosts(nanos[:serverless], in_nanos[:serverless]),
            dedicated_costs=RowCosts(nanos[serverless:gpu_end], in_nanos[serverless:gpu_end]),
            training_costs=RowCosts(nanos[gpu_end:], in_nanos[gpu_end:]),
            serverless_cents=row_cents[:serverless],
            dedicated_cents=row_cents[serverless:gpu_end],
            training_cents=row_cents[gpu_end:],
            billed_only_rows=billed_only,
        )

    def _rounding_order(self, billed_only: int) -> NDArray[np.int64]:
        """Where each unit goes in the rounding's running total: usage rows by team, project,
        environment, key and model (deployment, job) as text sorts, then billed-only items
        (no team, "\\uffff") in their own order."""
        units = self.units
        count = units.count
        last = [f"{count + n:012d}" for n in range(billed_only)]
        team = np.concatenate([units.team, units.code(["\uffff"] * billed_only)])
        project = np.concatenate([units.project, units.code(last)])
        blank = units.code([""] * billed_only)
        environment = np.concatenate([units.environment, blank])
        key = np.concatenate([units.key, blank])
        item = np.concatenate([units.item, blank])
        rank = np.empty(len(units.text), dtype=np.int64)
        rank[np.array(sorted(range(len(units.text)), key=units.text.__getitem__))] = np.arange(
            len(units.text)
        )
        return np.lexsort((rank[item], rank[key], rank[environment], rank[project], rank[team]))

    def _price_checks(
        self,
        claims: list[_Claim],
        estimated: NDArray[np.bool_],
        nanos: NDArray[np.int64],
        cents: NDArray[np.int64],
        in_nanos: NDArray[np.bool_],
    ) -> list[PriceCheck]:
        """Billed vs price book per model or category, over the rows its line items cover.

        Labels whose items share rows (several model buckets over the same models) are one
        check: the rows' estimates and cents are then counted once.
        """
        billed: dict[str, Decimal] = defaultdict(lambda: ZERO)
        rows_by_label: dict[str, NDArray[np.bool_]] = {}
        for claim in claims:
            label = _claim_label(claim.item) or self.units.check_label(int(claim.units[0]))
            billed[label] += claim.item.total_cost
            rows = rows_by_label.setdefault(label, np.zeros(self.units.count, dtype=np.bool_))
            rows[claim.units] = True
        checks = []
        for labels, rows in _overlapping(rows_by_label):
            covered = np.flatnonzero(rows)
            checks.append(
                PriceCheck(
                    " + ".join(labels),
                    sum((billed[label] for label in labels), ZERO),
                    self.estimates.total(covered),
                    billed_cents=int(cents[covered].sum()),
                )
            )
        unbilled: dict[str, tuple[int, bool]] = {}
        for unit in np.flatnonzero(estimated).tolist():
            label = self.units.check_label(unit)
            total, exact = unbilled.get(label, (0, False))
            unbilled[label] = (total + int(nanos[unit]), exact or bool(in_nanos[unit]))
        checks += [
            PriceCheck(label, None, _dollars(total, exact))
            for label, (total, exact) in sorted(unbilled.items())
        ]
        return checks

    def _method_notes(
        self, estimated: NDArray[np.bool_], billed_only: list[BilledOnlyRow]
    ) -> list[str]:
        notes = []
        if not self.usage.has_summary:
            notes.append(NO_BILL_NOTE)
        elif estimated.any():
            labels = {self.units.check_label(unit) for unit in self._one_per_label(estimated)}
            notes.append(ESTIMATED_NOTE + ", ".join(sorted(labels)))
        if billed_only:
            categories = sorted({row.category for row in billed_only})
            notes.append(
                "Billed without usage detail (no team, key or model), so shown as rows of "
                "their own: " + ", ".join(categories) + "."
            )
        if self.usage.key_costs is None:
            notes.append(NO_KEY_COSTS_NOTE)
        return notes

    def _one_per_label(self, rows: NDArray[np.bool_]) -> list[int]:
        """One unit of each check label among `rows` (a label is a model, or stream and GPU)."""
        units = self.units
        label = np.where(units.stream == 0, units.label, units.accelerator)
        key = label * 3 + units.stream
        _found, first = np.unique(key[rows], return_index=True)
        found: list[int] = np.flatnonzero(rows)[first].tolist()
        return found

    def _key_note(
        self, claims: list[_Claim], estimated: NDArray[np.bool_], cents: NDArray[np.int64]
    ) -> list[str]:
        """How far Fireworks' per-key figures are from the serverless part of the bill."""
        if not self.usage.key_costs or not claims:
            return []
        per_key = cents_of(sum((entry.cost for entry in self.usage.key_costs), ZERO))
        serverless = self.units.stream == 0
        billed = int(cents[serverless & ~estimated].sum())
        if not billed:
            return []
        gap = (per_key - billed) / billed * 100
        return [
            f"{KEY_COSTS_NOTE} ({money(per_key)} in all, {gap:+.1f}% from the {money(billed)} "
            "billed for serverless models), adjusted to add up to the bill."
        ]


def _dollars(nanos: int, in_nanos: bool) -> Decimal:
    """A sum of units' exact dollars as Decimal adds them: nano-dollars (exponent -9) when a
    unit in it was in nano-dollars, else Decimal 0 (unpriced estimates alone)."""
    return Decimal(nanos).scaleb(-9) if in_nanos else ZERO


class _Groups:
    """The day's groupings (team, and each team's projects, environments, keys, models and
    deployments), summed over units in the order the teams' dicts are filled: dedicated rows,
    then serverless, then training (each group where its first row is)."""

    def __init__(
        self,
        units: _Units,
        nanos: NDArray[np.int64],
        cents: NDArray[np.int64],
        estimated: NDArray[np.bool_],
        in_nanos: NDArray[np.bool_],
    ) -> None:
        serverless, gpu_end = units.serverless, units.serverless + units.dedicated
        self.order = np.concatenate(
            [np.arange(serverless, gpu_end), np.arange(serverless), np.arange(gpu_end, units.count)]
        )
        self.units = units
        picked = self.order
        self.columns = {
            "cost": nanos[picked],
            "cents": cents[picked],
            "estimated": np.where(estimated, nanos, 0)[picked],
            "estimated_cents": np.where(estimated, cents, 0)[picked],
            "prompt_tokens": units.prompt[picked],
            "cached_prompt_tokens": units.cached[picked],
            "completion_tokens": units.completion[picked],
            "gpu_seconds": units.gpu_seconds[picked],
        }
        self.in_nanos = in_nanos[picked]
        self.estimated_in_nanos = (estimated & in_nanos)[picked]
        self.audio_seconds = units.audio_seconds[picked]
        self.team = units.team[picked]

    def teams(self) -> dict[str, TeamGroups]:
        units, text = self.units, self.units.text
        picked = self.order
        teams: dict[str, TeamGroups] = {}
        for team, _first, amount in self._sums(self.team):
            teams[text[team]] = TeamGroups(amount=amount)
        width = len(text)
        for attribute, column in (("projects", units.project), ("environments", units.environment)):
            for code, _first, amount in self._sums(self.team * width + column[picked]):
                getattr(teams[text[code // width]], attribute)[text[code % width]] = amount
        names = units.key_name[picked]
        for code, rows, amount in self._sums(self.team * width + units.key[picked], names=names):
            group = KeyGroup(text[rows], amount)
            teams[text[code // width]].keys[text[code % width]] = group
        is_serverless = units.stream[picked] == 0
        label = units.label[picked]
        for code, _first, amount in self._sums(self.team * width + label, is_serverless):
            teams[text[code // width]].models[text[code % width]] = amount
        for code, first, amount in self._sums(self.team * width + label, ~is_serverless):
            unit = int(picked[first])
            teams[text[code // width]].deployments[text[code % width]] = DeploymentGroup(
                text[units.accelerator[unit]], units.kind(unit), amount
            )
        return teams

    def _sums(
        self,
        keys: NDArray[np.int64],
        rows: NDArray[np.bool_] | None = None,
        *,
        names: NDArray[np.int64] | None = None,
    ) -> list[tuple[int, int, Amount]]:
        """(key, first position or name code, Amount) per distinct key among `rows`, in order of
        first appearance; with `names`, the first non-empty name of each key's rows instead."""
        positions = np.arange(len(keys)) if rows is None else np.flatnonzero(rows)
        found, first, inverse = np.unique(keys[positions], return_index=True, return_inverse=True)
        by_appearance = np.argsort(first)
        group = np.empty(len(found), dtype=np.int64)
        group[by_appearance] = np.arange(len(found))
        group_of_row = group[inverse]
        count = len(found)
        sums = {}
        for name, column in self.columns.items():
            total = np.zeros(count, dtype=np.int64)
            np.add.at(total, group_of_row, column[positions])
            sums[name] = total.tolist()
        audio = np.bincount(group_of_row, weights=self.audio_seconds[positions], minlength=count)
        in_nanos = np.bincount(group_of_row, weights=self.in_nanos[positions], minlength=count)
        estimated_in_nanos = np.bincount(
            group_of_row, weights=self.estimated_in_nanos[positions], minlength=count
        )
        if names is not None:
            named = names[positions] != self.units.lookup("")
            labels = np.full(count, self.units.lookup(""), dtype=np.int64)
            found_named, first_named = np.unique(group_of_row[named], return_index=True)
            labels[found_named] = names[positions][named][first_named]
            first_or_name = labels.tolist()
        else:
            first_or_name = positions[first[by_appearance]].tolist()
        results = []
        for index, key in enumerate(found[by_appearance].tolist()):
            amount = Amount(
                cost=_dollars(sums["cost"][index], bool(in_nanos[index])),
                cents=sums["cents"][index],
                estimated=_dollars(sums["estimated"][index], bool(estimated_in_nanos[index])),
                estimated_cents=sums["estimated_cents"][index],
                prompt_tokens=sums["prompt_tokens"][index],
                cached_prompt_tokens=sums["cached_prompt_tokens"][index],
                completion_tokens=sums["completion_tokens"][index],
                gpu_seconds=sums["gpu_seconds"][index],
                audio_seconds=float(audio[index]),
            )
            results.append((key, first_or_name[index], amount))
        return results


def _family(item: LineItem) -> str:
    """Which usage stream a line item bills: text, audio, dedicated, training or other."""
    category = f"{item.category} {item.series}".lower()
    key = item.grouping_key.lower()
    if any(word in category for word in ("audio", "transcri", "speech")):
        return "audio"
    if any(word in category for word in ("train", "fine-tun", "fine tun", "finetun")):
        return "training"
    if any(word in category for word in ("dedicated", "deployment", "gpu", "on-demand")) or (
        key.startswith("deployment") or key.startswith("accelerator")
    ):
        return "dedicated"
    if "embed" in category or "image" in category or "rerank" in category:
        return "other"
    if "completion" in category or "text" in category or key in ("model", "model_bucket"):
        return "text"
    return "other"


def _batch_flag(item: LineItem) -> bool | None:
    if item.secondary_grouping_key.lower() != "is_batch":
        return None
    return item.secondary_grouping_value.strip().lower() == "true"


def _gpu_match(key: str, value: str, name: str, accelerator: str, base_model: str) -> bool:
    if key.startswith(("deployment", "job")):
        return short_model_id(name) == short_model_id(value)
    if key.startswith("accelerator"):
        return accelerator == value
    if key in ("model", "base_model"):
        return short_model_id(base_model) == short_model_id(value)
    return True


def _claim_label(item: LineItem) -> str:
    """Bucket items cover several models: name the bucket, not the first model it met."""
    if _family(item) == "text" and item.grouping_key.lower() != "model":
        return f"model bucket {item.grouping_value}".strip()
    return ""


def _billed_only(item: LineItem, cents: int) -> BilledOnlyRow:
    detail = item.grouping_value if item.grouping_key else ""
    return BilledOnlyRow(item.category or "Uncategorised", detail, item.total_cost, cents)


def _overlapping(
    rows_by_label: dict[str, NDArray[np.bool_]],
) -> list[tuple[list[str], NDArray[np.bool_]]]:
    """Labels joined where their rows overlap (directly or through another label), by label."""
    merged: list[tuple[list[str], NDArray[np.bool_]]] = []
    for label in sorted(rows_by_label):
        labels, rows = [label], rows_by_label[label].copy()
        apart = []
        for other_labels, other_rows in merged:
            if not (rows & other_rows).any():
                apart.append((other_labels, other_rows))
            else:
                labels += other_labels
                rows |= other_rows
        merged = [*apart, (sorted(labels), rows)]
    return sorted(merged, key=lambda group: group[0])
