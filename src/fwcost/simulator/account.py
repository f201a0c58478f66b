"""The simulated account's ground truth: how much every stream used in any time range.

Usage is defined in closed form per 15-minute slot of the home timezone's days:
    quantity(stream, slot) = units(stream, home day) × weight(profile, slot) × multiple
where units is an integer fixed for the whole home day. Every real timezone offset is a multiple
of 15 minutes, so any local day of any timezone is a whole set of slots, and its total is
units × (a difference of prefix sums) for each of the at most three home days it touches: O(1) per
stream per day whatever the DST shift, and additive (two halves always sum to the whole).
Dollars are rated from those integer quantities with exact prices, so every view agrees to the nano.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from zoneinfo import ZoneInfo

from fwcost.dates import day_bounds
from fwcost.simulator.catalog import (
    SPIKE_TEAM,
    Activity,
    ApiKey,
    Kind,
    LineKey,
    Profile,
    Stream,
    build_streams,
    stream_dimensions,
)
from fwcost.simulator.config import SimulatorConfig
from fwcost.simulator.prices import NANOS_PER_USD

SLOT_SECONDS = 900
SLOTS_PER_HOUR = 4
GROWTH_EPOCH = date(2026, 1, 1)  # volume grows 0.1% a day from here
WEEKDAY_PERMILLE = (1000, 1040, 1060, 1030, 950, 560, 500)  # Monday first
NOISE_LOW, NOISE_SPAN = 850, 301  # per stream and day: 0.85 .. 1.15
# Cache recent ranges, up to about a million stream entries (a 100k-row account keeps 10 days).
CACHE_STREAM_ENTRIES = 1_000_000
CACHE_RANGES = (4, 64)  # at least, at most
_MASK64 = (1 << 64) - 1

Quantities = list[int]  # one int per measure of the stream


def _prefix_sums(profile: Profile) -> list[int]:
    slot_weights = [weight for weight in profile.value for _ in range(SLOTS_PER_HOUR)]
    return [0, *accumulate(slot_weights)]


_PREFIX = {profile: _prefix_sums(profile) for profile in Profile}


def _mix(*values: int) -> int:
    """A small, stable integer hash (splitmix64 steps): noise without a random generator."""
    state = 0x9E3779B97F4A7C15
    for value in values:
        state = (state ^ (value & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        state ^= state >> 31
        state = state * 0x94D049BB133111EB & _MASK64
        state ^= state >> 29
    return state


def _epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def _ceil_slots(seconds: int) -> int:
    return -(-seconds // SLOT_SECONDS)


@dataclass(frozen=True, slots=True)
class Segment:
    """The slots [lo, hi) of one home day that fall inside a queried range."""

    home_day: date
    lo: int
    hi: int


class SimulatedAccount:
    """The whole synthetic account, usable without HTTP. Thread-safe; caches recent days."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.keys, self.models, self.streams = build_streams(config)
        # Per stream, for the hot loops that serve 100k rows.
        self.kind_names = [stream.kind.value for stream in self.streams]
        self.usage_types = [stream.usage_type for stream in self.streams]
        self._home = config.home_zone
        self._cache: OrderedDict[tuple[int, int], list[Quantities | None]] = OrderedDict()
        self._lock = threading.Lock()
        low, high = CACHE_RANGES
        self._cache_size = max(low, min(high, CACHE_STREAM_ENTRIES // len(self.streams)))
        self.spike_stream = self._busiest_text_stream(SPIKE_TEAM)

    # ---- who is who -------------------------------------------------------------------------

    @property
    def admin_key(self) -> ApiKey:
        """The key behind config.api_key (what usageCosts' scope SELF returns)."""
        return self.keys[0]

    @property
    def readonly_key(self) -> ApiKey:
        return self.keys[1]

    def _busiest_text_stream(self, team: str) -> int | None:
        """The team's costliest serverless stream (one key, one model): what spike_day runs
        away with. None when the team has none (an account under hostile names)."""
        candidates = [
            (self.stream_cost_nanos(stream, list(stream.base)), index)
            for index, stream in enumerate(self.streams)
            if stream.team == team and stream.kind is Kind.TEXT and not stream.batch
        ]
        return max(candidates)[1] if candidates else None

    def key_by_activity(self, activity: Activity) -> ApiKey:
        return next(key for key in self.keys if key.activity is activity)

    @functools.cached_property
    def dimensions(self) -> list[dict[str, str]]:
        """Per stream, its billingUsage dimension values (built once: large accounts)."""
        return [stream_dimensions(stream, self.config.account_id) for stream in self.streams]

    # ---- metering ---------------------------------------------------------------------------

    def quantities(self, start: datetime, end: datetime) -> list[Quantities | None]:
        """Per stream (same order as self.streams): its measures in [start, end), or None if 0."""
        span = (_epoch(start), _epoch(end))
        with self._lock:
            cached = self._cache.get(span)
            if cached is not None:
                self._cache.move_to_end(span)
                return cached
        computed = self._meter(*span)
        with self._lock:
            self._cache[span] = computed
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return computed

    def day_quantities(self, day: date, tz: ZoneInfo) -> list[Quantities | None]:
        bounds = day_bounds(day, tz)
        return self.quantities(bounds.start, bounds.end)

    def _home_bounds(self, day: date) -> tuple[int, int]:
        bounds = day_bounds(day, self._home)
        return _epoch(bounds.start), _epoch(bounds.end)

    def _segments(self, start: int, end: int) -> Iterator[Segment]:
        day = datetime.fromtimestamp(start, self._home).date()
        last = datetime.fromtimestamp(end - 1, self._home).date()
        while day <= last:
            day_start, day_end = self._home_bounds(day)
            lo = _ceil_slots(max(start, day_start) - day_start)
            hi = _ceil_slots(min(end, day_end) - day_start)
            if hi > lo:
                yield Segment(day, lo, hi)
            day += timedelta(days=1)

    def _meter(self, start: int, end: int) -> list[Quantities | None]:
        totals: list[Quantities | None] = [None] * len(self.streams)
        if end <= start:
            return totals
        for segment in self._segments(start, end):
            self._add_segment(segment, totals)
        return totals

    def _add_segment(self, segment: Segment, totals: list[Quantities | None]) -> None:
        day = segment.home_day
        weights = {p: prefix[segment.hi] - prefix[segment.lo] for p, prefix in _PREFIX.items()}
        active = {activity: self._is_active(activity, day) for activity in Activity}
        permille = self._day_permille(day)
        ordinal = day.toordinal()
        seed = self.config.seed
        late = day == self.config.late_batch_day
        spike = self.spike_stream if day == self.config.spike_day else None
        for index, stream in enumerate(self.streams):
            if not active[stream.activity] or (late and stream.batch):
                continue
            if stream.seasonal:
                noise = NOISE_LOW + _mix(seed, index, ordinal) % NOISE_SPAN
                factor = permille * noise
                if index == spike:
                    factor *= self.config.spike_multiplier
            else:
                factor = 1_000_000
            scale = weights[stream.profile] * stream.multiple
            added = [base * factor // 1_000_000 * scale for base in stream.base]
            current = totals[index]
            if current is None:
                totals[index] = added
            else:
                totals[index] = [a + b for a, b in zip(current, added, strict=True)]

    def _is_active(self, activity: Activity, day: date) -> bool:
        new_key_day = self.config.new_key_day
        if activity is Activity.WEEKDAYS:
            return day.weekday() < 5
        if activity is Activity.TUESDAY_THURSDAY:
            return day.weekday() in (1, 3)
        if activity is Activity.NEWCOMER:
            return day >= new_key_day if new_key_day else day.day >= 15
        if activity is Activity.QUIET:
            return day < new_key_day - timedelta(days=2) if new_key_day else day.day < 13
        return True

    def _day_permille(self, day: date) -> int:
        growth = min(2000, max(500, 1000 + (day - GROWTH_EPOCH).days))
        return WEEKDAY_PERMILLE[day.weekday()] * growth // 1000

    # ---- rating -----------------------------------------------------------------------------

    @staticmethod
    def stream_cost_nanos(stream: Stream, quantities: Quantities) -> int:
        return sum(
            rate.cost_nanos(quantity)
            for rate, quantity in zip(stream.rates, quantities, strict=True)
        )

    def line_items(self, start: datetime, end: datetime) -> dict[LineKey, tuple[int, int]]:
        """billing/summary's truth for [start, end): line -> (raw quantity, cost in nanos)."""
        items: dict[LineKey, tuple[int, int]] = {}
        for stream, quantities in zip(self.streams, self.quantities(start, end), strict=True):
            if quantities is None:
                continue
            raw, cost = items.get(stream.line, (0, 0))
            items[stream.line] = (
                raw + sum(quantities),
                cost + self.stream_cost_nanos(stream, quantities),
            )
        return {line: value for line, value in items.items() if value[0]}

    def billed_total(self, day: date, tz: ZoneInfo) -> Decimal:
        """The sum of billing/summary totalCost for the local day `day` in `tz`."""
        bounds = day_bounds(day, tz)
        nanos = sum(cost for _, cost in self.line_items(bounds.start, bounds.end).values())
        return Decimal(nanos) / NANOS_PER_USD

    def key_costs_nanos(self, start: datetime, end: datetime) -> dict[str, int]:
        """Serverless text-completion cost per API key id ("" for usage with no key)."""
        costs: dict[str, int] = {}
        for stream, quantities in zip(self.streams, self.quantities(start, end), strict=True):
            if quantities is None or stream.kind is not Kind.TEXT:
                continue
            key_id = stream.key.key_id if stream.key else ""
            costs[key_id] = costs.get(key_id, 0) + self.stream_cost_nanos(stream, quantities)
        return costs

    def team_costs_nanos(self, start: datetime, end: datetime) -> dict[str, int]:
        """Billed cost per team annotation ("" for unannotated usage), every stream included."""
        costs: dict[str, int] = {}
        for stream, quantities in zip(self.streams, self.quantities(start, end), strict=True):
            if quantities is not None:
                cost = self.stream_cost_nanos(stream, quantities)
                costs[stream.team] = costs.get(stream.team, 0) + cost
        return costs
