"""Hand-built, realistic Fireworks days for report tests, goldens and screenshots.

Deterministic: the same arguments always give the same rows, so golden files stay stable.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fwcost.dates import day_bounds
from fwcost.model import DayUsage, DedicatedUsage, KeyCost, LineItem, ServerlessUsage
from fwcost.report.attribution import AttributedDay, HistoryDay, attribute_day
from fwcost.report.pricebook import PriceBook, load_price_book, short_model_id
from fwcost.report.summary import ReportContext, Restatement

TEXT = "TEXT_COMPLETION_INFERENCE_USAGE"
AUDIO = "AUDIO_TRANSCRIPTION_USAGE"
MODEL_PREFIX = "accounts/fireworks/models/"

# (key id, key name, team, project, environment, {model: prompt tokens per day})
KEYS = [
    (
        "key_4nMFyHCSZP4CRKqa",
        "prod-eng-12",
        "search",
        "ranker",
        "prod",
        {"kimi-k2p6": 60_000_000, "gpt-oss-120b": 40_000_000},
    ),
    ("key_9QxAbT7mPq21zz1bT", "ranker-batch", "search", "ranker", "prod", {"gpt-oss-120b": 120e6}),
    (
        "key_Zk2pLmN8rS0tUv77c",
        "growth-api",
        "ads & growth",
        "copywriter",
        "prod",
        {"kimi-k2p6": 30e6, "llama-v3p3-70b-instruct": 25e6},
    ),
    (
        "key_Gr0wthStg9x8y7z6w",
        "growth-staging",
        "ads & growth",
        "copywriter",
        "staging",
        {"gpt-oss-120b": 8e6},
    ),
    (
        "key_R3s3archNb00k4aa1",
        "notebook-ana",
        "research",
        "evals",
        "dev",
        {"kimi-k2p6": 9e6, "qwen3-30b-a3b": 20e6},
    ),
    (
        "key_R3s3archEv4lz9bb2",
        "eval-harness",
        "research",
        "evals",
        "dev",
        {"llama-v3p3-70b-instruct": 14e6},
    ),
    ("key_Un4nn0tat3d0000x9", "legacy-bot", "", "", "", {"gpt-oss-120b": 30e6, "kimi-k2p6": 3e6}),
    ("key_Supp0rtW1sp3r55e5", "support-voice", "support", "calls", "prod", {}),
]

LISTED = {"kimi-k2p6", "gpt-oss-120b"}  # models billed with their own line item


def demo_usage(
    day: date,
    *,
    scale: float = 1.0,
    prices: PriceBook | None = None,
    seed: int | None = None,
    extra_keys: list[tuple[str, str, str]] | None = None,
) -> DayUsage:
    """One day of usage for the demo account: 5 teams, 8 keys, 4 models, 2 deployments, audio."""
    book = prices or load_price_book()
    rng = random.Random(seed if seed is not None else day.toordinal())
    serverless = []
    for key_id, key_name, team, project, env, models in KEYS:
        for model, prompt in models.items():
            noise = scale * rng.uniform(0.85, 1.15)
            tokens = int(prompt * noise)
            serverless.append(
                ServerlessUsage(
                    day, MODEL_PREFIX + model, key_id, key_name, team, project, env, TEXT,
                    tokens, int(tokens * 0.31), int(tokens * 0.09), 0.0,
                )
            )  # fmt: skip
    for key_id, key_name, team in extra_keys or []:
        tokens = int(2e6 * rng.uniform(0.5, 1.5))
        serverless.append(
            ServerlessUsage(
                day, MODEL_PREFIX + "gpt-oss-120b", key_id, key_name, team, "stress", "prod",
                TEXT, tokens, 0, tokens // 10, 0.0,
            )
        )  # fmt: skip
    audio_seconds = round(36_000 * scale * rng.uniform(0.9, 1.1), 1)
    serverless.append(
        ServerlessUsage(
            day, MODEL_PREFIX + "whisper-v3", "key_Supp0rtW1sp3r55e5", "support-voice",
            "support", "calls", "prod", AUDIO, 0, 0, 0, audio_seconds,
        )
    )  # fmt: skip
    dedicated = [
        DedicatedUsage(
            day, "ranker-h100", "NVIDIA_H100_80GB", "accounts/acme/models/ranker-ft", "US_IOWA_1",
            "search", "ranker", "prod", "DEDICATED_DEPLOYMENT_USAGE", 86_400,
        ),
        DedicatedUsage(
            day, "research-b200", "NVIDIA_B200_180GB", MODEL_PREFIX + "kimi-k2p6", "GLOBAL",
            "research", "evals", "dev", "DEDICATED_DEPLOYMENT_USAGE",
            int(3600 * 6 * scale * rng.uniform(0.5, 1.5)),
        ),
    ]  # fmt: skip
    line_items = _bill(day, serverless, dedicated, book, rng)
    return DayUsage(
        day=day,
        serverless=serverless,
        dedicated=dedicated,
        line_items=line_items,
        key_costs=_key_costs(day, serverless, book, rng),
    )


def _bill(
    day: date,
    serverless: list[ServerlessUsage],
    dedicated: list[DedicatedUsage],
    book: PriceBook,
    rng: random.Random,
) -> list[LineItem]:
    """Line items near (not equal to) the price book, like a real bill."""
    by_model: dict[str, Decimal] = {}
    bucket = Decimal(0)
    audio = Decimal(0)
    tokens_by_model: dict[str, int] = {}
    for row in serverless:
        if row.audio_input_seconds:
            audio += book.audio_cost(row.audio_input_seconds)
            continue
        cost = book.token_cost(
            row.model, row.prompt_tokens, row.cached_prompt_tokens, row.completion_tokens,
            batch=False,
        )  # fmt: skip
        model = short_model_id(row.model)
        tokens_by_model[model] = tokens_by_model.get(model, 0) + row.prompt_tokens
        if model in LISTED:
            by_model[model] = by_model.get(model, Decimal(0)) + cost
        else:
            bucket += cost
    items = []

    def item(category: str, key: str, value: str, quantity: float, cost: Decimal) -> LineItem:
        drift = Decimal(str(round(rng.uniform(0.96, 1.06), 3)))
        return LineItem(
            day, category, key, value, "", "", "", quantity, Decimal(0),
            (cost * drift).quantize(Decimal("0.000000001")),
        )  # fmt: skip

    for model, cost in sorted(by_model.items()):
        items.append(item("Text Completion", "model", model, tokens_by_model[model], cost))
    items.append(item("Text Completion", "model_bucket", "16.1B+", 0, bucket))
    items.append(item("Audio Transcription", "model", "whisper-v3", 0, audio))
    for gpu in dedicated:
        cost = book.gpu_cost(gpu.accelerator_type, gpu.accelerator_seconds) or Decimal(0)
        items.append(
            item("Dedicated Deployment", "accelerator_type", gpu.accelerator_type, 0, cost)
        )
    items.append(item("Embeddings", "model", "nomic-embed-text-v1p5", 0, Decimal("54.10")))
    return items


def _key_costs(
    day: date, serverless: list[ServerlessUsage], book: PriceBook, rng: random.Random
) -> list[KeyCost]:
    costs: dict[str, Decimal] = {}
    for row in serverless:
        cost = book.token_cost(
            row.model, row.prompt_tokens, row.cached_prompt_tokens, row.completion_tokens,
            batch=False,
        ) + book.audio_cost(row.audio_input_seconds)  # fmt: skip
        costs[row.api_key_id] = costs.get(row.api_key_id, Decimal(0)) + cost
    return [
        KeyCost(day, key, (cost * Decimal(str(round(rng.uniform(0.97, 1.05), 3)))).quantize(
            Decimal("0.000000001")))
        for key, cost in sorted(costs.items())
    ]  # fmt: skip


def demo_history(
    today: date, days: int = 31, *, spike_day: date | None = None
) -> tuple[AttributedDay, dict[date, AttributedDay]]:
    """Today and `days` earlier days, archived and read back like the pipeline does."""
    book = load_price_book()
    history = {}
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        scale = _weekly(day) * (3.0 if day == spike_day else 1.0)
        attributed = attribute_day(demo_usage(day, scale=scale, prices=book), book)
        history[day] = AttributedDay.from_json(attributed.to_json())
    usage = demo_usage(today, scale=_weekly(today), prices=book)
    # Today: search's prod key runs hot, and a brand-new CI key appears.
    usage.serverless.append(
        ServerlessUsage(
            today, MODEL_PREFIX + "kimi-k2p6", "key_C1runn3r7q8w9e0r", "ci-runner-7",
            "ads & growth", "ci", "staging", TEXT, 9_000_000, 1_000_000, 2_500_000, 0.0,
        )
    )  # fmt: skip
    usage.serverless.append(
        ServerlessUsage(
            today, MODEL_PREFIX + "kimi-k2p6", "key_4nMFyHCSZP4CRKqa", "prod-eng-12", "search",
            "ranker", "prod", TEXT, 140_000_000, 20_000_000, 30_000_000, 0.0,
        )
    )  # fmt: skip
    usage.line_items = _bill(today, usage.serverless, usage.dedicated, book, random.Random(7))
    usage.key_costs = _key_costs(today, usage.serverless, book, random.Random(8))
    return attribute_day(usage, book), history


def read_back(days: Mapping[date, AttributedDay]) -> dict[date, HistoryDay]:
    """Earlier days as a report reads them: archived (attribution.json) and read back."""
    return {day: HistoryDay.from_json(value.to_json()) for day, value in days.items()}


def _weekly(day: date) -> float:
    """The account's week: weekends are quieter."""
    return 0.55 if day.weekday() >= 5 else 1.0


def demo_context(day: date, **overrides: object) -> ReportContext:
    settings: dict[str, object] = {
        "account_id": "acme-ai",
        "timezone": "America/Los_Angeles",
        "bounds": day_bounds(day, ZoneInfo("America/Los_Angeles")),
        "archive_location": f"s3://acme-fwcost-archive/fireworks/account=acme-ai/dt={day}/",
        "code_version": "0.1.0",
        "team_budgets": {"ads & growth": Decimal(1500), "search": Decimal(12000)},
        "account_budget": Decimal(60000),
        "restatements": (
            Restatement(day - timedelta(days=1), Decimal("1133.77"), Decimal("1146.17")),
        ),
    }
    settings.update(overrides)
    return ReportContext(**settings)  # type: ignore[arg-type]
