"""The normalized CSV: one row per day × group, for Athena, a spreadsheet or an auditor.

Columns and units (the Glue table in template.yaml declares the same list; a test keeps them equal):

| column               | meaning                                                              |
|----------------------|----------------------------------------------------------------------|
| day                  | report day, YYYY-MM-DD, a calendar day in `timezone`                 |
| timezone             | IANA name of the report timezone                                     |
| account_id           | Fireworks account id                                                 |
| usage_kind           | serverless, dedicated, training, or billed_only (cost with no usage) |
| model                | model resource name (serverless) or base model (dedicated, training) |
| api_key_id           | Fireworks API key id (serverless only)                               |
| api_key_name         | API key display name                                                 |
| deployment           | dedicated deployment name                                            |
| job_id               | training job id                                                      |
| accelerator_type     | e.g. NVIDIA_H100_80GB                                                |
| placement            | deployment region, e.g. US_IOWA_1                                    |
| team                 | `team` annotation; empty = unattributed                              |
| project              | `project` annotation                                                 |
| environment          | `environment` annotation                                             |
| usage_type           | Fireworks usage type, e.g. TEXT_COMPLETION_INFERENCE_USAGE           |
| category             | billing category (billed_only rows), e.g. Embeddings                 |
| prompt_tokens        | input tokens, count (includes cached)                                |
| cached_prompt_tokens | input tokens served from cache, count                                |
| completion_tokens    | output tokens, count                                                 |
| audio_input_seconds  | audio input, seconds                                                 |
| accelerator_seconds  | GPU time, accelerator-seconds                                        |
| attributed_cost_usd  | rated USD attributed to this row; the column sums to the day's bill  |
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from fwcost.model import DayUsage

CSV_COLUMNS: tuple[str, ...] = (
    "day",
    "timezone",
    "account_id",
    "usage_kind",
    "model",
    "api_key_id",
    "api_key_name",
    "deployment",
    "job_id",
    "accelerator_type",
    "placement",
    "team",
    "project",
    "environment",
    "usage_type",
    "category",
    "prompt_tokens",
    "cached_prompt_tokens",
    "completion_tokens",
    "audio_input_seconds",
    "accelerator_seconds",
    "attributed_cost_usd",
)


class CostedRows(Protocol):
    """Attributed dollars, position by position with the DayUsage lists (an AttributedDay)."""

    @property
    def serverless_costs(self) -> Sequence[Decimal]: ...
    @property
    def dedicated_costs(self) -> Sequence[Decimal]: ...
    @property
    def training_costs(self) -> Sequence[Decimal]: ...
    @property
    def billed_only_rows(self) -> Sequence[BilledOnly]: ...


class BilledOnly(Protocol):
    @property
    def category(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def cost(self) -> Decimal: ...


def usage_csv(
    usage: DayUsage,
    account_id: str,
    timezone: str,
    costs: CostedRows | None,
    *,
    team: str | None = None,
) -> bytes:
    """The day's normalized CSV (UTF-8, header row, RFC 4180 quoting).

    With `team`, only that team's rows: a team's report carries its own slice alone.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    day, blank = usage.day.isoformat(), ""
    head = (day, timezone, account_id)

    def cost_at(column: Sequence[Decimal] | None, index: int) -> str:
        return _money(column[index]) if column is not None else blank

    def wanted(row_team: str) -> bool:
        return team is None or row_team == team

    for i, s in enumerate(usage.serverless):
        if wanted(s.team):
            writer.writerow(
                (*head, "serverless", s.model, s.api_key_id, s.api_key_name, blank, blank, blank,
                 blank, s.team, s.project, s.environment, s.usage_type, blank, s.prompt_tokens,
                 s.cached_prompt_tokens, s.completion_tokens, _seconds(s.audio_input_seconds), 0,
                 cost_at(costs.serverless_costs if costs else None, i))
            )  # fmt: skip
    for i, d in enumerate(usage.dedicated):
        if wanted(d.team):
            writer.writerow(
                (*head, "dedicated", d.base_model, blank, blank, d.deployment, blank,
                 d.accelerator_type, d.placement, d.team, d.project, d.environment, d.usage_type,
                 blank, 0, 0, 0, 0, d.accelerator_seconds,
                 cost_at(costs.dedicated_costs if costs else None, i))
            )  # fmt: skip
    for i, t in enumerate(usage.training):
        if wanted(t.team):
            writer.writerow(
                (*head, "training", t.base_model, blank, blank, blank, t.job_id, t.accelerator_type,
                 blank, t.team, t.project, t.environment, t.usage_type, blank, 0, 0, 0, 0,
                 t.accelerator_seconds, cost_at(costs.training_costs if costs else None, i))
            )  # fmt: skip
    for row in costs.billed_only_rows if costs and team is None else ():
        writer.writerow(
            (*head, "billed_only", row.detail, blank, blank, blank, blank, blank, blank, blank,
             blank, blank, blank, row.category, 0, 0, 0, 0, 0, _money(row.cost))
        )  # fmt: skip
    return buffer.getvalue().encode()


def _money(amount: Decimal) -> str:
    # Nine decimals (nano-dollars, Fireworks' own precision) keep the column summing to the bill.
    return f"{amount:.9f}"


def _seconds(value: float) -> str:
    return repr(value) if value else "0"
