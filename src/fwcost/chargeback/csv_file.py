"""The month's chargeback CSV: one row per line (fwcost.chargeback.lines), cents that add up.

Columns (UTF-8, header row, RFC 4180 quoting, one line per row):

| column               | meaning                                                              |
|----------------------|----------------------------------------------------------------------|
| month                | the statement's month, e.g. 2026-11                                  |
| team                 | `team` annotation; empty = unattributed (ROW), which includes        |
|                      | billed-only spend                                                    |
| project              | `project` annotation                                                 |
| environment          | `environment` annotation                                             |
| usage_kind           | serverless, dedicated, training, billed_only, or shared_unattributed |
|                      | (SPREAD: the team's share of unattributed spend, no other detail)    |
| api_key_id           | Fireworks API key id (serverless only)                               |
| api_key_name         | API key display name                                                 |
| model                | model (serverless), base model (dedicated, training), or the line    |
|                      | item's detail (billed_only)                                          |
| deployment           | dedicated deployment, training job id, or billing category           |
|                      | (billed_only)                                                        |
| prompt_tokens        | input tokens in the month, count (includes cached)                   |
| cached_prompt_tokens | input tokens served from cache, count                                |
| completion_tokens    | output tokens, count                                                 |
| accelerator_seconds  | GPU time, accelerator-seconds                                        |
| cost_usd             | USD to the cent: the sum of the archived rows' cents; the column     |
|                      | adds up to the month's total of the archived days                    |

Text cells are neutralised as the day CSV's are (csv_export.text_cell); the names come from
the day CSVs already neutralised, which writing them again leaves unchanged.
"""

from __future__ import annotations

import csv
import io

from fwcost.archive.csv_export import text_cell
from fwcost.chargeback.lines import Chargeback
from fwcost.report.cents import cents_text

CHARGEBACK_COLUMNS: tuple[str, ...] = (
    "month",
    "team",
    "project",
    "environment",
    "usage_kind",
    "api_key_id",
    "api_key_name",
    "model",
    "deployment",
    "prompt_tokens",
    "cached_prompt_tokens",
    "completion_tokens",
    "accelerator_seconds",
    "cost_usd",
)


def chargeback_csv(chargeback: Chargeback, month_label: str) -> bytes:
    """The CSV of the month's lines, in their order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CHARGEBACK_COLUMNS)
    month = text_cell(month_label)
    writer.writerows(
        (
            month,
            *map(text_cell, (line.team, line.project, line.environment, line.kind.value)),
            *map(text_cell, (line.api_key_id, line.api_key_name, line.model, line.deployment)),
            line.prompt_tokens,
            line.cached_prompt_tokens,
            line.completion_tokens,
            line.accelerator_seconds,
            cents_text(line.cents),
        )
        for line in chargeback.lines
    )
    return out.getvalue().encode()
