"""Spend with no team annotation, in the month's statements: a row of its own or shared out.

Finance chooses (FWCOST_UNATTRIBUTED): showback wants the unannotated spend visible as its own
row, so someone annotates the keys; chargeback often wants every dollar on a team, in proportion
to what each team spent. Either way the teams' cents add up to the same billed total.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from fwcost.report.cents import NANOS_PER_CENT, split_cents


class UnattributedSpend(Enum):
    ROW = "row"  # its own row, "Unattributed"
    SPREAD = "spread"  # shared out over the teams in proportion to their spend


def spread_cents(team_cents: Mapping[str, int], unattributed_cents: int) -> dict[str, int]:
    """Each team's share of `unattributed_cents`, in proportion to its own cents.

    The shares are whole cents that add up exactly to `unattributed_cents` (the one rounding
    rule, report/cents.py, over the teams in the order given). With no team spend to weigh by,
    there is nobody to share with: ValueError.
    """
    weight = sum(team_cents.values())
    if weight <= 0:
        raise ValueError("no team spend to share unattributed spend over")
    exact = [cents * unattributed_cents * NANOS_PER_CENT // weight for cents in team_cents.values()]
    return dict(zip(team_cents, split_cents(exact, unattributed_cents), strict=True))
