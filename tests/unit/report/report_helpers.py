"""Small builders for report tests: usage rows, line items and attributed days by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from fwcost.model import DedicatedUsage, KeyCost, LineItem, ServerlessUsage, TrainingUsage
from fwcost.report.attribution import AttributedDay
from fwcost.report.cents import nanos_of, split_cents
from fwcost.report.groups import Amount, TeamGroups

DAY = date(2026, 11, 21)
PREFIX = "accounts/fireworks/models/"


def text_row(
    model: str,
    key: str,
    team: str,
    prompt: int,
    completion: int = 0,
    *,
    cached: int = 0,
    project: str = "p",
    environment: str = "prod",
    usage_type: str = "TEXT_COMPLETION_INFERENCE_USAGE",
    day: date = DAY,
) -> ServerlessUsage:
    return ServerlessUsage(
        day, PREFIX + model, key, f"name-{key}", team, project, environment, usage_type,
        prompt, cached, completion, 0.0,
    )  # fmt: skip


def audio_row(key: str, team: str, seconds: float, day: date = DAY) -> ServerlessUsage:
    return ServerlessUsage(
        day, PREFIX + "whisper-v3", key, f"name-{key}", team, "calls", "prod",
        "AUDIO_TRANSCRIPTION_USAGE", 0, 0, 0, seconds,
    )  # fmt: skip


def gpu_row(
    deployment: str, accelerator: str, team: str, seconds: int, day: date = DAY
) -> DedicatedUsage:
    return DedicatedUsage(
        day, deployment, accelerator, PREFIX + "base", "GLOBAL", team, "p", "prod",
        "DEDICATED_DEPLOYMENT_USAGE", seconds,
    )  # fmt: skip


def training_row(job: str, accelerator: str, team: str, seconds: int) -> TrainingUsage:
    return TrainingUsage(
        DAY, job, "SFT", PREFIX + "base", accelerator, team, "p", "dev", "TRAINING", seconds
    )


def item(
    category: str,
    key: str,
    value: str,
    cost: str,
    secondary: tuple[str, str] = ("", ""),
    day: date = DAY,
) -> LineItem:
    return LineItem(
        day, category, key, value, secondary[0], secondary[1], "", 0.0, Decimal(0), Decimal(cost)
    )


def key_cost(key: str, cost: str) -> KeyCost:
    return KeyCost(DAY, key, Decimal(cost))


def simple_day(
    day: date,
    teams: dict[str, str | Decimal],
    *,
    keys: dict[str, tuple[str, str, str]] | None = None,
    models: dict[str, str] | None = None,
) -> AttributedDay:
    """An attributed day built directly: team -> cost; optional key id -> (name, team, cost).

    Each entry is one usage row; its cents come from the one rounding (split_cents).
    """
    rows = [
        (team, f"key_{team}", f"{team}-key", (models or {}).get(team, "gpt-oss-120b"), cost)
        for team, cost in teams.items()
    ]
    rows += [
        (team, key_id, name, "gpt-oss-120b", cost)
        for key_id, (name, team, cost) in (keys or {}).items()
    ]
    return rows_day(day, rows)


def rows_day(day: date, rows: list[tuple[str, str, str, str, str | Decimal]]) -> AttributedDay:
    """An attributed day of usage rows (team, key id, key name, model, cost), built directly."""
    costs = [Decimal(cost) for *_, cost in rows]
    cents = split_cents([nanos_of(cost) for cost in costs])
    groups: dict[str, TeamGroups] = {}
    for (team, key_id, key_name, model, _), cost, row_cents in zip(rows, costs, cents, strict=True):
        groups.setdefault(team, TeamGroups()).add_row(
            Amount(cost=cost, cents=row_cents),
            project=f"proj-{team}",
            environment="prod",
            key=(key_id, key_name),
            model=model,
            deployment=None,
        )
    total = sum(costs, Decimal(0))
    return AttributedDay(
        day=day,
        teams=groups,
        billed_only={},
        total=total,
        total_cents=sum(cents),
        billed_total=total,
        estimated_total=Decimal(0),
        estimated_cents=0,
        key_source="usage_costs",
    )


def version_1(document: dict[str, Any]) -> dict[str, Any]:
    """The attribution.json fwcost wrote before cents: exact dollars only."""
    cents_fields = {"cents", "estimated_cents", "total_cents", "billed_cents"}

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in cents_fields}
        return [strip(v) for v in value] if isinstance(value, list) else value

    return strip(document) | {
        "version": 1,
        "billed_only": {k: v["cost"] for k, v in document["billed_only"].items()},
    }


def line_items(
    models: list[str], accelerators: list[str], amounts: st.SearchStrategy[Decimal]
) -> st.SearchStrategy[LineItem]:
    """For property tests: a rated line item of each kind Fireworks bills, some covering usage
    rows (a model, a model bucket, an accelerator, a job) and some none (embeddings, images)."""
    return st.one_of(
        st.builds(
            lambda model, cost, batch: item(
                "Text Completion", "model", model, str(cost),
                ("is_batch", batch) if batch else ("", ""),
            ),
            st.sampled_from(models), amounts, st.sampled_from(["", "true", "false"]),
        ),
        st.builds(lambda cost: item("Text Completion", "model_bucket", "16.1B+", str(cost)), amounts),
        st.builds(lambda cost: item("Audio Transcription", "model", "whisper-v3", str(cost)), amounts),
        st.builds(
            lambda accelerator, cost: item(
                "Dedicated Deployment", "accelerator_type", accelerator, str(cost)
            ),
            st.sampled_from(accelerators), amounts,
        ),
        st.builds(lambda cost: item("Fine-tuning", "job_id", "job-x", str(cost)), amounts),
        st.builds(lambda cost: item("Embeddings", "model", "bge", str(cost)), amounts),
        st.builds(lambda cost: item("Image Generation", "model", "flux", str(cost)), amounts),
    )  # fmt: skip
