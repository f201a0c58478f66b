"""Small, realistic records for tests: import them (`from samples import sample_day`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from fwcost.model import DayUsage, DedicatedUsage, LineItem, RawResponse, ServerlessUsage


def raw_response(name: str, body: bytes) -> RawResponse:
    return RawResponse(
        name=name,
        method="GET",
        path="/v1/accounts/acme-ai/billingUsage",
        params=(("startTime", "2026-11-21T00:00:00Z"), ("groupBy", "model_name")),
        request_body=b"",
        status=200,
        body=body,
        fetched_at=datetime(2026, 11, 22, 7, 0, 1, tzinfo=UTC),
        elapsed_seconds=0.25,
        attempts=1,
    )


def sample_day(day: date = date(2026, 11, 21)) -> DayUsage:
    """A small but complete day: annotated and unannotated serverless usage, one deployment."""
    return DayUsage(
        day=day,
        serverless=[
            ServerlessUsage(day, "accounts/fireworks/models/kimi-k2p6", "key_4nMFyHCSZP4CRKqa",
                            "prod-eng", "search", "ranker", "prod", "TEXT_COMPLETION_INFERENCE_USAGE",
                            1_842_301, 400_000, 412_980, 0.0),
            ServerlessUsage(day, "accounts/fireworks/models/gpt-oss-120b", "key_9QxAa1b2c3d4e1bT",
                            "batch, \"nightly\"", "", "", "", "TEXT_COMPLETION_INFERENCE_USAGE",
                            10_000, 0, 2_000, 0.0),
        ],
        dedicated=[
            DedicatedUsage(day, "ranker-h100", "NVIDIA_H100_80GB", "accounts/fireworks/models/qwen3-8b",
                           "US_IOWA_1", "search", "ranker", "prod", "DEDICATED_DEPLOYMENT_USAGE", 86_400),
        ],
        line_items=[
            LineItem(day, "Text Completion", "model", "kimi-k2p6", "", "", "", 2.2, Decimal("3.40"),
                     Decimal("3.40")),
        ],
    )  # fmt: skip
