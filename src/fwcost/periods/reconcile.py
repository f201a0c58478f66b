"""A month's statement against Fireworks' own billing summary for the month.

billing/summary over the whole month gives rated line items: amounts before credits, discounts
and taxes, so they can differ from the invoice. The statement's total is the archived days'
billed cents plus any usage not on the bill (at list price), with the days' rounding as its own
row; here it meets the month's summary:

    statement total = month billed (summary, rounded once)
                      + usage not on the bill, at list price
                      − billed now but not in the archived days (late data: re-run the days)

A negative line item (a credit, where the summary has one) is listed apart and not counted in
the rated total.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from fwcost.model import LineItem
from fwcost.report.cents import cents_of, nanos_of, split_cents


@dataclass(frozen=True, slots=True)
class Reconciliation:
    categories: tuple[tuple[str, int], ...]  # (category, cents) of the rated line items
    credits: tuple[tuple[str, int], ...]  # (label, cents below zero), where the summary has any
    billed: Decimal | None  # the rated total (credits left out); None: no summary (refused)
    refused: str  # why there is no summary
    archived_billed: Decimal  # the month's days' billed dollars, as archived
    estimated_cents: int  # usage not on the bill, at list price, in the statement's total
    total_cents: int  # the statement's total

    @property
    def billed_cents(self) -> int | None:
        return None if self.billed is None else cents_of(self.billed)

    @property
    def not_archived_cents(self) -> int:
        """Billed now but not in the archived days: late data, or days archived without a bill."""
        billed = self.billed_cents
        return 0 if billed is None else billed - cents_of(self.archived_billed)

    @property
    def reconciled(self) -> bool:
        return self.billed is not None and self.not_archived_cents == 0


def reconcile(
    items: Sequence[LineItem],
    refused: str,
    *,
    archived_billed: Decimal,
    estimated_cents: int,
    total_cents: int,
) -> Reconciliation:
    """The month's line items by category: exact dollars summed, then cents that add up to the
    month's rated total (the one rounding rule, report/cents.py)."""
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    credits: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        target = credits if item.total_cost < 0 else by_category
        target[item.category or "(no category)"] += item.total_cost
    billed = None if refused else sum(by_category.values(), Decimal(0))
    ranked = sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))
    cents = split_cents([nanos_of(cost) for _, cost in ranked], cents_of(billed or Decimal(0)))
    return Reconciliation(
        categories=tuple((name, part) for (name, _), part in zip(ranked, cents, strict=True)),
        credits=tuple((name, cents_of(cost)) for name, cost in sorted(credits.items())),
        billed=billed,
        refused=refused,
        archived_billed=archived_billed,
        estimated_cents=estimated_cents,
        total_cents=total_cents,
    )
