"""The oracle: attribution as it was before the columns (per-row Python, Decimal sums).

Kept only for tests/unit/report/test_columns_match_reference.py, which checks that the
columnar engine (fwcost.report.attribution) gives the same dollars, cents and attribution.json
for random days. It builds fwcost's own AttributedDay, so the two compare field by field.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from fwcost.model import DayUsage, LineItem, ServerlessUsage
from fwcost.report.attribution import (
    DEDICATED,
    ESTIMATED_NOTE,
    KEY_BALANCING_ROUNDS,
    KEY_COSTS_NOTE,
    NANO,
    NO_BILL_NOTE,
    NO_KEY_COSTS_NOTE,
    SERVERLESS,
    TRAINING,
    UNPRICED_NOTE,
    AttributedDay,
    BilledOnlyRow,
    _batch_flag,
    _billed_only,
    _claim_label,
    _family,
    _gpu_match,
    is_audio,
    is_batch,
    split_nanos,
)
from fwcost.report.cents import cents_of, money, nanos_of, split_cents
from fwcost.report.groups import ZERO, Amount, PriceCheck, TeamGroups
from fwcost.report.pricebook import PriceBook, short_model_id

RowRef = tuple[str, int]


def reference_attribute_day(usage: DayUsage, prices: PriceBook) -> AttributedDay:
    return _Attribution(usage, prices).run()


@dataclass(slots=True)
class _Claim:
    """One line item and the rows it covers, with the current share of each row (floats)."""

    item: LineItem
    rows: list[RowRef]
    shares: list[float]


class _Attribution:
    def __init__(self, usage: DayUsage, prices: PriceBook) -> None:
        self.usage = usage
        self.prices = prices
        # Per serverless row, computed once: every line item looks rows up by these.
        self.audio = [is_audio(row) for row in usage.serverless]
        self.rows_by_model: dict[str, list[int]] = defaultdict(list)
        for index, row in enumerate(usage.serverless):
            self.rows_by_model[short_model_id(row.model)].append(index)
        self.estimates: dict[RowRef, Decimal | None] = self._estimates()
        self.notes: list[str] = []

    # ---- the steps, in order -------------------------------------------------------------
    def run(self) -> AttributedDay:
        claims, billed_only = self._claims() if self.usage.has_summary else ([], [])
        if self.usage.key_costs is not None and claims:
            self._balance_keys(claims)
        row_costs: dict[RowRef, Decimal] = defaultdict(lambda: ZERO)
        for claim in claims:
            for row, cost in zip(
                claim.rows, split_nanos(claim.item.total_cost, claim.shares), strict=True
            ):
                row_costs[row] += cost
        claimed = {row for claim in claims for row in claim.rows}
        estimated = self._estimate_unclaimed(claimed, row_costs)
        return self._assemble(claims, billed_only, row_costs, estimated)

    def _estimates(self) -> dict[RowRef, Decimal | None]:
        book = self.prices
        found: dict[RowRef, Decimal | None] = {}
        for index, row in enumerate(self.usage.serverless):
            cost = book.token_cost(
                row.model,
                row.prompt_tokens,
                row.cached_prompt_tokens,
                row.completion_tokens,
                batch=is_batch(row),
            )
            found[SERVERLESS, index] = cost + book.audio_cost(row.audio_input_seconds)
        for index, gpu_row in enumerate(self.usage.dedicated):
            found[DEDICATED, index] = book.gpu_cost(
                gpu_row.accelerator_type, gpu_row.accelerator_seconds
            )
        for index, job in enumerate(self.usage.training):
            found[TRAINING, index] = book.gpu_cost(job.accelerator_type, job.accelerator_seconds)
        return found

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
            rows = self._rows_for(item)
            if rows:
                claims.append(_Claim(item, rows, self._weights(rows)))
            elif item.total_cost:
                billed_only.append(item)
        covered = {row for claim in claims for row in claim.rows if row[0] == SERVERLESS}
        pool = [
            (SERVERLESS, i)
            for i, audio in enumerate(self.audio)
            if (SERVERLESS, i) not in covered and not audio
        ]
        for item in buckets:
            rows = _prefer_batch(item, pool, self.usage.serverless)
            if rows:
                claims.append(_Claim(item, rows, self._weights(rows)))
            elif item.total_cost:
                billed_only.append(item)
        return claims, billed_only

    def _rows_for(self, item: LineItem) -> list[RowRef]:
        family = _family(item)
        key = item.grouping_key.lower()
        value = item.grouping_value
        usage = self.usage
        if family in ("text", "audio"):
            audio = family == "audio"
            candidates = (
                self.rows_by_model.get(short_model_id(value), [])
                if key == "model"
                else range(len(self.audio))
            )
            rows = [(SERVERLESS, i) for i in candidates if self.audio[i] == audio]
            return _prefer_batch(item, rows, usage.serverless)
        if family == "dedicated":
            return [
                (DEDICATED, i)
                for i, row in enumerate(usage.dedicated)
                if _gpu_match(key, value, row.deployment, row.accelerator_type, row.base_model)
            ]
        if family == "training":
            return [
                (TRAINING, i)
                for i, job in enumerate(usage.training)
                if _gpu_match(key, value, job.job_id, job.accelerator_type, job.base_model)
            ]
        return []

    def _weights(self, rows: list[RowRef]) -> list[float]:
        if rows[0][0] == SERVERLESS:
            return [float(self.estimates[row] or 0) for row in rows]
        seconds = [self._gpu_seconds(row) for row in rows]
        priced = [self.estimates[row] for row in rows]
        accelerators = {self._accelerator(row) for row in rows}
        if len(accelerators) > 1 and all(cost is not None for cost in priced):
            return [float(cost or 0) for cost in priced]
        return [float(value) for value in seconds]

    def _balance_keys(self, claims: list[_Claim]) -> None:
        """Iterative proportional fitting: keys towards usageCosts:query, items kept exact."""
        key_costs: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for entry in self.usage.key_costs or []:
            key_costs[entry.api_key_id] += entry.cost

        serverless_claims = [c for c in claims if c.rows[0][0] == SERVERLESS]
        present = {
            self.usage.serverless[index].api_key_id
            for claim in serverless_claims
            for _stream, index in claim.rows
        }
        adjustable = sorted(key for key in present if key_costs.get(key, ZERO) > 0)
        if not adjustable:
            return
        # A round multiplies every row's share by its key's factor, then every claim's shares by
        # that claim's rescale to its billed amount. So after any number of rounds a row's share
        # is its starting share × its key's product of factors × its claim's product of
        # rescales, and the rounds only need each claim's starting shares summed per key: far
        # fewer pairs than rows (a 100k-row day: 69k claim×key pairs vs 440k claim×row pairs).
        # Slot 0 stands for the keys that are not adjusted (their factor stays 1).
        slot = {key: position for position, key in enumerate(adjustable, start=1)}
        claim_slots = [
            [slot.get(self.usage.serverless[index].api_key_id, 0) for _stream, index in c.rows]
            for c in serverless_claims
        ]
        claim_weights: list[list[tuple[int, float]]] = []
        for claim, slots in zip(serverless_claims, claim_slots, strict=True):
            per_key: dict[int, float] = defaultdict(float)
            for position, share in zip(slots, claim.shares, strict=True):
                per_key[position] += share
            claim_weights.append(list(per_key.items()))
        wanted = [0.0] + [float(key_costs[key]) for key in adjustable]
        wanted_total = sum(wanted)
        key_scale = [1.0] * len(wanted)
        claim_scale = [1.0] * len(serverless_claims)
        billed = [float(claim.item.total_cost) for claim in serverless_claims]
        for _ in range(KEY_BALANCING_ROUNDS):
            current = [0.0] * len(wanted)
            for rescale, weights in zip(claim_scale, claim_weights, strict=True):
                for position, weight in weights:
                    current[position] += rescale * weight
            current = [factor * share for factor, share in zip(key_scale, current, strict=True)]
            # Keys keep their combined share; only the split between them follows usageCosts.
            scale = sum(current[1:]) / wanted_total
            for position in range(1, len(wanted)):
                if current[position] > 0:
                    key_scale[position] *= wanted[position] * scale / current[position]
            for index, weights in enumerate(claim_weights):
                item_sum = claim_scale[index] * sum(key_scale[p] * w for p, w in weights)
                if item_sum > 0:
                    claim_scale[index] *= billed[index] / item_sum
        for claim, slots, rescale in zip(serverless_claims, claim_slots, claim_scale, strict=True):
            claim.shares = [
                share * key_scale[position] * rescale
                for position, share in zip(slots, claim.shares, strict=True)
            ]

    def _estimate_unclaimed(
        self, claimed: set[RowRef], row_costs: dict[RowRef, Decimal]
    ) -> set[RowRef]:
        estimated: set[RowRef] = set()
        unpriced: set[str] = set()
        for row, estimate in self.estimates.items():
            if row in claimed:
                continue
            estimated.add(row)
            if estimate is None:
                unpriced.add(self._accelerator(row))
                row_costs[row] = ZERO
            else:
                row_costs[row] = estimate.quantize(NANO, ROUND_HALF_EVEN)
        if unpriced:
            self.notes.append(
                UNPRICED_NOTE
                + ", ".join(sorted(unpriced))
                + " in the price book: its unbilled GPU time is counted at $0."
            )
        return estimated

    # ---- putting the day together ------------------------------------------------------------
    def _assemble(
        self,
        claims: list[_Claim],
        billed_only_items: list[LineItem],
        row_costs: dict[RowRef, Decimal],
        estimated: set[RowRef],
    ) -> AttributedDay:
        usage = self.usage
        sizes = {
            SERVERLESS: len(usage.serverless),
            DEDICATED: len(usage.dedicated),
            TRAINING: len(usage.training),
        }
        costs = {name: [row_costs[name, i] for i in range(size)] for name, size in sizes.items()}
        # Every attributed unit (rows stream by stream, then billed-only items, the CSV's order)
        # becomes cents here, once; everything below sums these cents. The running total that
        # rounds them goes through them by team, project, environment, key and model, so each of
        # those groups shows its exact dollars to within a cent (cents.split_cents).
        units = [*costs[SERVERLESS], *costs[DEDICATED], *costs[TRAINING]]
        units += [item.total_cost for item in billed_only_items]
        refs = [(name, i) for name, size in sizes.items() for i in range(size)]
        order = sorted(range(len(units)), key=lambda n: self._rounding_order(refs, n))
        ordered_cents = split_cents([nanos_of(units[n]) for n in order])
        unit_cents = [0] * len(units)
        for n, unit in zip(order, ordered_cents, strict=True):
            unit_cents[n] = unit
        cents: dict[str, list[int]] = {}
        start = 0
        for name, size in sizes.items():
            cents[name] = unit_cents[start : start + size]
            start += size
        billed_only = [
            _billed_only(item, item_cents)
            for item, item_cents in zip(billed_only_items, unit_cents[start:], strict=True)
        ]

        teams: dict[str, TeamGroups] = {}
        for stream, index in sorted(row_costs):
            is_estimated = (stream, index) in estimated
            amount = Amount(cost=costs[stream][index], cents=cents[stream][index])
            if is_estimated:
                amount.estimated, amount.estimated_cents = amount.cost, amount.cents
            self._add_to_teams(teams, (stream, index), amount)
        billed_by_category: dict[str, Amount] = defaultdict(Amount)
        for row in billed_only:
            billed_by_category[row.category].add(Amount(cost=row.cost, cents=row.cents))
        estimated_total = sum((row_costs[r] for r in estimated), ZERO)
        billed_total = (
            sum((item.total_cost for item in usage.line_items), ZERO) if usage.has_summary else None
        )
        return AttributedDay(
            day=usage.day,
            teams=teams,
            billed_only=dict(billed_by_category),
            total=(billed_total or ZERO) + estimated_total,
            total_cents=sum(unit_cents),
            billed_total=billed_total,
            estimated_total=estimated_total,
            estimated_cents=sum(cents[stream][index] for stream, index in estimated),
            key_source="usage_costs" if usage.key_costs is not None else "allocation",
            price_checks=self._price_checks(claims, estimated, row_costs, cents),
            notes=self._method_notes(estimated, billed_only)
            + self._key_note(claims, estimated, cents[SERVERLESS])
            + self.notes,
            gaps=list(usage.gaps),
            serverless_costs=costs[SERVERLESS],
            dedicated_costs=costs[DEDICATED],
            training_costs=costs[TRAINING],
            serverless_cents=cents[SERVERLESS],
            dedicated_cents=cents[DEDICATED],
            training_cents=cents[TRAINING],
            billed_only_rows=billed_only,
        )

    def _rounding_order(self, refs: list[RowRef], unit: int) -> tuple[str, ...]:
        """Where a unit goes in the rounding's running total: usage rows grouped as the report
        groups them, billed-only items (no team) last, in their own order."""
        if unit >= len(refs):
            return ("\uffff", f"{unit:012d}")
        stream, index = refs[unit]
        if stream == SERVERLESS:
            row = self.usage.serverless[index]
            return (row.team, row.project, row.environment, row.api_key_id, row.model)
        if stream == DEDICATED:
            gpu = self.usage.dedicated[index]
            return (gpu.team, gpu.project, gpu.environment, "", gpu.deployment)
        job = self.usage.training[index]
        return (job.team, job.project, job.environment, "", job.job_id)

    def _add_to_teams(self, teams: dict[str, TeamGroups], row_ref: RowRef, amount: Amount) -> None:
        stream, index = row_ref
        if stream == SERVERLESS:
            row = self.usage.serverless[index]
            amount.prompt_tokens = row.prompt_tokens
            amount.cached_prompt_tokens = row.cached_prompt_tokens
            amount.completion_tokens = row.completion_tokens
            amount.audio_seconds = row.audio_input_seconds
            teams.setdefault(row.team, TeamGroups()).add_row(
                amount,
                project=row.project,
                environment=row.environment,
                key=(row.api_key_id, row.api_key_name),
                model=short_model_id(row.model),
                deployment=None,
            )
            return
        gpu = self.usage.dedicated[index] if stream == DEDICATED else self.usage.training[index]
        amount.gpu_seconds = gpu.accelerator_seconds
        name = (
            self.usage.dedicated[index].deployment
            if stream == DEDICATED
            else (self.usage.training[index].job_id)
        )
        teams.setdefault(gpu.team, TeamGroups()).add_row(
            amount,
            project=gpu.project,
            environment=gpu.environment,
            key=("", ""),
            model=None,
            deployment=(short_model_id(name), gpu.accelerator_type, stream),
        )

    def _price_checks(
        self,
        claims: list[_Claim],
        estimated: set[RowRef],
        row_costs: dict[RowRef, Decimal],
        cents: dict[str, list[int]],
    ) -> list[PriceCheck]:
        """Billed vs price book per model or category, over the rows its line items cover.

        Labels whose items share rows (several model buckets over the same models) are one
        check: the rows' estimates and cents are then counted once.
        """
        billed: dict[str, Decimal] = defaultdict(lambda: ZERO)
        rows_by_label: dict[str, set[RowRef]] = defaultdict(set)
        for claim in claims:
            label = _claim_label(claim.item) or self._check_label(claim.rows[0])
            billed[label] += claim.item.total_cost
            rows_by_label[label].update(claim.rows)
        checks = []
        for labels, rows in _overlapping(rows_by_label):
            estimates = [self.estimates[row] for row in rows]
            checks.append(
                PriceCheck(
                    " + ".join(labels),
                    sum((billed[label] for label in labels), ZERO),
                    None if None in estimates else sum((c or ZERO for c in estimates), ZERO),
                    billed_cents=sum(cents[stream][index] for stream, index in rows),
                )
            )
        unbilled: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for row in estimated:
            unbilled[self._check_label(row)] += row_costs[row]
        checks += [PriceCheck(label, None, cost) for label, cost in sorted(unbilled.items())]
        return checks

    def _check_label(self, row: RowRef) -> str:
        stream, index = row
        if stream == SERVERLESS:
            return short_model_id(self.usage.serverless[index].model)
        return f"{stream} {self._accelerator(row)}"

    def _method_notes(self, estimated: set[RowRef], billed_only: list[BilledOnlyRow]) -> list[str]:
        notes = []
        if not self.usage.has_summary:
            notes.append(NO_BILL_NOTE)
        elif estimated:
            models = sorted({self._check_label(row) for row in estimated})
            notes.append(ESTIMATED_NOTE + ", ".join(models))
        if billed_only:
            categories = sorted({row.category for row in billed_only})
            notes.append(
                "Billed without usage detail (no team, key or model), so shown as rows of "
                "their own: " + ", ".join(categories) + "."
            )
        if self.usage.key_costs is None:
            notes.append(NO_KEY_COSTS_NOTE)
        return notes

    def _key_note(
        self, claims: list[_Claim], estimated: set[RowRef], serverless_cents: list[int]
    ) -> list[str]:
        """How far Fireworks' per-key figures are from the serverless part of the bill."""
        if not self.usage.key_costs or not claims:
            return []
        per_key = cents_of(sum((entry.cost for entry in self.usage.key_costs), ZERO))
        billed = sum(
            cents
            for index, cents in enumerate(serverless_cents)
            if (SERVERLESS, index) not in estimated
        )
        if not billed:
            return []
        gap = (per_key - billed) / billed * 100
        return [
            f"{KEY_COSTS_NOTE} ({money(per_key)} in all, {gap:+.1f}% from the {money(billed)} "
            "billed for serverless models), adjusted to add up to the bill."
        ]

    def _gpu_seconds(self, row: RowRef) -> int:
        stream, index = row
        gpu = self.usage.dedicated[index] if stream == DEDICATED else self.usage.training[index]
        return gpu.accelerator_seconds

    def _accelerator(self, row: RowRef) -> str:
        stream, index = row
        if stream == SERVERLESS:
            return ""
        gpu = self.usage.dedicated[index] if stream == DEDICATED else self.usage.training[index]
        return gpu.accelerator_type


def _prefer_batch(
    item: LineItem, rows: list[RowRef], serverless: list[ServerlessUsage]
) -> list[RowRef]:
    """Rows of the item's batch kind when usage tells batch apart; otherwise all of them."""
    flag = _batch_flag(item)
    if flag is None:
        return rows
    matching = [row for row in rows if is_batch(serverless[row[1]]) == flag]
    return matching or rows


def _overlapping(rows_by_label: dict[str, set[RowRef]]) -> list[tuple[list[str], set[RowRef]]]:
    """Labels joined where their rows overlap (directly or through another label), by label."""
    merged: list[tuple[list[str], set[RowRef]]] = []
    for label in sorted(rows_by_label):
        labels, rows = [label], set(rows_by_label[label])
        apart = []
        for other_labels, other_rows in merged:
            if rows.isdisjoint(other_rows):
                apart.append((other_labels, other_rows))
            else:
                labels += other_labels
                rows |= other_rows
        merged = [*apart, (sorted(labels), rows)]
    return sorted(merged, key=lambda group: group[0])
