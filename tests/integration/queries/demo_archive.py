"""The demo's archive to query, and the figures its days and report say (conftest.py runs it)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fwcost.queries import NamedQuery, Parameter, QueryResult, named_query
from fwcost.queries.local import DuckDbRunner

ACCOUNT = "acme-ai"
REPORT_DAY = date(2026, 11, 29)  # a Sunday; the archive holds 2026-10-30 to this day
FIRST_DAY = date(2026, 10, 30)


class DemoArchive:
    """The demo's output folder: its archive, what each day's attribution.json says, the report."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.days_root = out / "archive" / "fireworks" / f"account={ACCOUNT}"
        self.runner = DuckDbRunner(out / "archive", "fireworks")
        self._attributions: dict[date, dict[str, Any]] = {}

    def run(self, name: str, **values: str) -> list[dict[str, str]]:
        query: NamedQuery = named_query(name)
        given = {Parameter.ACCOUNT: ACCOUNT} | {Parameter(k): v for k, v in values.items()}
        result: QueryResult = self.runner.run(query, query.values(given))
        return [dict(zip(result.columns, row, strict=True)) for row in result.rows]

    def attribution(self, day: date) -> dict[str, Any]:
        if day not in self._attributions:
            body = (self.days_root / f"dt={day.isoformat()}" / "attribution.json").read_text()
            self._attributions[day] = json.loads(body)
        return self._attributions[day]

    def team_cents(self, day: date) -> dict[str, int]:
        """The day's cents per team as the report shows them, with the queries' labels."""
        document = self.attribution(day)
        teams = {
            name or "(unattributed)": figures["total"]["cents"]
            for name, figures in document["teams"].items()
        }
        billed_only = sum(row["cents"] for row in document["billed_only"].values())
        return teams | ({"(billed, not in usage data)": billed_only} if billed_only else {})

    def key_cents(self, day: date) -> dict[str, int]:
        """The day's cents per API key id (keys live under their team in attribution.json)."""
        totals: dict[str, int] = {}
        for figures in self.attribution(day)["teams"].values():
            for key_id, key in figures["keys"].items():
                if key_id:  # "": GPU time, not per key
                    totals[key_id] = totals.get(key_id, 0) + key["cents"]
        return totals

    def key_names(self) -> dict[str, str]:
        return {
            key_id: key["name"]
            for day in days(FIRST_DAY, REPORT_DAY)
            for figures in self.attribution(day)["teams"].values()
            for key_id, key in figures["keys"].items()
            if key_id
        }


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def cents(usd: str) -> int:
    """A query's USD cell in cents (exact: the cells are decimals to the cent)."""
    amount = Decimal(usd) * 100
    assert amount == amount.to_integral_value(), usd
    return int(amount)
