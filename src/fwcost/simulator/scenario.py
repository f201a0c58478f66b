"""The demo's story: the simulated account, arranged so any report day shows every kind of news.

Whatever the day (a weekday, a weekend, a DST day, the first of a month), `fwcost demo` shows:
- a team spike: one of team ads's keys runs away on one model, at SPIKE_MULTIPLIER times a
  usual day, enough for the team to stand out even on a Sunday beside its steady GPUs;
- a new API key (its first day is the report day) and a key that went quiet two days before;
- a budget warning: ads's monthly budget is BUDGET_SHARE of what it usually spends in that
  month, so its projection runs over (and, late in the month, its spending does);
- a revised day: the day before was first archived without its batch usage, which Fireworks
  meters late; the report run fetches that day again, finds it, and reports the revision;
- unattributed spend: keys, keyless usage and a deployment nobody annotated (the account has
  them every day).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from fwcost.dates import day_bounds
from fwcost.simulator.account import SimulatedAccount
from fwcost.simulator.catalog import SPIKE_TEAM
from fwcost.simulator.config import SimulatorConfig
from fwcost.simulator.prices import NANOS_PER_USD

# The spike is one stream running away: prod-ads-1 on kimi-k2p6, about $74 on a weekday and
# $31 on a Sunday. Team ads also runs steady GPU deployments (about $530 a day), and its 14-day
# median is a weekday's (about $900). To reach 1.5x that median (the anomaly rule) on a Sunday,
# and with volumes at half (the simulated account's dates before 2026), the stream must add
# ~$600 to a Sunday: 40x does; on a 2026 weekday that makes ads ~4x its median.
SPIKE_MULTIPLIER = 40
BUDGET_TEAM = SPIKE_TEAM
BUDGET_SHARE = Decimal(1)
BUDGET_ROUNDING = Decimal(100)


@dataclass(frozen=True, slots=True)
class DemoScenario:
    day: date  # the report day
    timezone: str  # the report timezone, where the account lives (its days are the report's)

    @property
    def revised_day(self) -> date:
        return self.day - timedelta(days=1)

    def config(self, *, late_data_arrived: bool) -> SimulatorConfig:
        """The account before the revised day's batch usage arrived, or after."""
        return SimulatorConfig(
            new_key_day=self.day,
            spike_day=self.day,
            spike_multiplier=SPIKE_MULTIPLIER,
            home_timezone=self.timezone,
            late_batch_day=None if late_data_arrived else self.revised_day,
        )

    def team_budgets(self) -> dict[str, Decimal]:
        """Monthly budgets (FWCOST_BUDGETS' "teams"): ads's is below its usual month."""
        usual = replace(self.config(late_data_arrived=True), spike_day=None)
        account = SimulatedAccount(usual)
        zone = usual.home_zone
        first = self.day.replace(day=1)
        days = calendar.monthrange(first.year, first.month)[1]
        nanos = 0
        for offset in range(days):
            bounds = day_bounds(first + timedelta(days=offset), zone)
            nanos += account.team_costs_nanos(bounds.start, bounds.end).get(BUDGET_TEAM, 0)
        month = Decimal(nanos) / NANOS_PER_USD
        budget = (month * BUDGET_SHARE / BUDGET_ROUNDING).quantize(Decimal(1), ROUND_DOWN)
        return {BUDGET_TEAM: budget * BUDGET_ROUNDING}
