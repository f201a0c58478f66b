"""How a simulated account and server are shaped: scale, special days, latency and faults."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FAULT_KINDS = ("429", "500", "503", "malformed", "drop")
MIN_KEYS = 6  # admin, readonly, newcomer, quiet, and at least two ordinary keys
# Keys use this share of the text models (at least two), which for_rows relies on.
MODEL_SHARE_PER_KEY = 0.6


@dataclass(frozen=True, slots=True)
class Fault:
    """Misbehave on the first `times` requests whose path contains `path_contains`.

    kind: "429" (with a Retry-After header of `retry_after` seconds, 1 when None), "500", "503",
    "malformed" (HTTP 200 with a truncated JSON body) or "drop" (close without a response).
    """

    kind: str
    times: int
    path_contains: str = ""
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"Fault kind must be one of {FAULT_KINDS}, got {self.kind!r}")
        if self.times < 1:
            raise ValueError(f"Fault times must be at least 1, got {self.times}")


def models_per_key(models: int) -> int:
    return min(models, max(2, math.ceil(models * MODEL_SHARE_PER_KEY)))


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything the simulator is built from; the same config always gives the same bytes.

    home_timezone is where the synthetic account lives: new_key_day, spike_day and the
    weekday/weekend rhythm are calendar days there. Pass the report's timezone to see a spike
    cover exactly one report day.

    hostile_names, when given, rename the same account (catalog.HOSTILE_NAMES is a ready set):
    annotated keys take their team, project, environment and display name from it, cycled, as
    do fine-tuned models and the GPU streams' annotations. Usage and dollars are unchanged.
    echo_headers_on_error makes every refusal echo the request's headers (Authorization too)
    in its body, as a careless gateway might.
    """

    account_id: str = "acme-ai"
    api_key: str = "fw_sim_admin_key"
    readonly_api_key: str = "fw_sim_readonly_key"
    keys: int = 40
    models: int = 12
    latency_seconds: float = 0.0
    faults: Sequence[Fault] = ()
    # groupBy dimensions answered with a 400 as unknown, as an older gateway does the training
    # ones (job_id, job_type, usage_type, base_model)
    unknown_dimensions: Sequence[str] = ()
    seed: int = 7
    new_key_day: date | None = None
    spike_day: date | None = None
    # On spike_day, team "ads"'s costliest stream (one key, one model) runs at this multiple.
    spike_multiplier: int = 3
    # A home day whose batch usage has not arrived yet: every API leaves it out, as Fireworks
    # does with usage it meters late. A later fetch (late_batch_day=None) shows it: a revision.
    late_batch_day: date | None = None
    home_timezone: str = "UTC"
    hostile_names: Sequence[str] = ()
    echo_headers_on_error: bool = False

    def __post_init__(self) -> None:
        # Accept any sequences (a list reads naturally at call sites) but keep tuples.
        object.__setattr__(self, "faults", tuple(self.faults))
        object.__setattr__(self, "hostile_names", tuple(self.hostile_names))
        if "" in self.hostile_names:
            raise ValueError("hostile_names must not hold an empty name (that means unannotated)")
        object.__setattr__(self, "unknown_dimensions", tuple(self.unknown_dimensions))
        if self.keys < MIN_KEYS:
            raise ValueError(f"keys must be at least {MIN_KEYS}, got {self.keys}")
        if self.models < 2:
            raise ValueError(f"models must be at least 2, got {self.models}")
        if self.spike_multiplier < 1:
            raise ValueError(f"spike_multiplier must be at least 1, got {self.spike_multiplier}")
        if self.latency_seconds < 0:
            raise ValueError(f"latency_seconds must not be negative, got {self.latency_seconds}")
        if self.api_key == self.readonly_api_key:
            raise ValueError("api_key and readonly_api_key must differ")
        try:
            ZoneInfo(self.home_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"home_timezone must be an IANA name, got {self.home_timezone!r}"
            ) from None

    @property
    def home_zone(self) -> ZoneInfo:
        return ZoneInfo(self.home_timezone)

    @classmethod
    def for_rows(cls, n: int, **overrides: Any) -> SimulatorConfig:
        """A config giving about `n` serverless rows a day grouped by model_name and api_key_id.

        Each key uses models_per_key(models) text models, so rows ≈ keys × that.
        """
        if n < 1:
            raise ValueError(f"n must be positive, got {n}")
        models = max(12, round(math.sqrt(n) / 6))
        keys = max(MIN_KEYS, round(n / models_per_key(models)))
        return cls(**({"keys": keys, "models": models} | overrides))
