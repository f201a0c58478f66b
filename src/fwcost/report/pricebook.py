"""The price book: Fireworks prices as configuration, loaded from TOML and validated once.

Prices weight usage when the bill is shared out, and estimate dollars the bill does not cover.
Every error names the file, the entry and what is wrong, because people edit this file by hand.
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

DEFAULT_PRICE_BOOK = Path(__file__).resolve().parents[1] / "pricebook.toml"
MILLION = Decimal(1_000_000)
SECONDS_PER_HOUR = Decimal(3600)
SECONDS_PER_MINUTE = Decimal(60)

_SECTIONS = frozenset({"defaults", "tiers", "models", "gpu_usd_per_hour"})
_DEFAULT_FIELDS = frozenset(
    {"cached_input_fraction", "batch_fraction", "unknown_model_tier", "audio_usd_per_minute"}
)
_MODEL_FIELDS = frozenset({"input", "cached_input", "output", "tier"})


class PriceBookError(ValueError):
    """The price book file is unreadable or says something that is not a valid price."""


@dataclass(frozen=True, slots=True)
class TokenPrice:
    """$ per 1M tokens of one serverless model."""

    input: Decimal
    cached_input: Decimal
    output: Decimal


@dataclass(frozen=True, slots=True)
class PriceBook:
    source: str
    tiers: Mapping[str, Decimal]
    models: Mapping[str, TokenPrice]
    gpu_usd_per_hour: Mapping[str, Decimal]
    cached_input_fraction: Decimal
    batch_fraction: Decimal
    unknown_model_tier: str
    audio_usd_per_minute: Decimal

    def token_price(self, model: str) -> TokenPrice:
        """The price of a model by any spelling of its id; unknown models get the default tier."""
        known = self.models.get(short_model_id(model))
        if known is not None:
            return known
        tier = self.tiers[self.unknown_model_tier]
        return TokenPrice(tier, tier * self.cached_input_fraction, tier)

    def is_listed(self, model: str) -> bool:
        return short_model_id(model) in self.models

    def token_cost(
        self, model: str, prompt: int, cached: int, completion: int, *, batch: bool
    ) -> Decimal:
        """Dollars for tokens; `prompt` includes the cached part, as billingUsage reports it."""
        price = self.token_price(model)
        cached = min(cached, prompt)
        dollars = (
            (prompt - cached) * price.input
            + cached * price.cached_input
            + completion * price.output
        )
        scale = self.batch_fraction if batch else Decimal(1)
        return dollars * scale / MILLION

    def audio_cost(self, seconds: float) -> Decimal:
        return Decimal(str(seconds)) / SECONDS_PER_MINUTE * self.audio_usd_per_minute

    def gpu_cost(self, accelerator_type: str, seconds: int) -> Decimal | None:
        """Dollars for accelerator-seconds, or None when the accelerator has no price."""
        hourly = self.gpu_usd_per_hour.get(accelerator_type)
        if hourly is None:
            return None
        return hourly * seconds / SECONDS_PER_HOUR


# Cached: attribution asks for it several times per usage row (100k rows a day) and a day
# holds a few hundred distinct model and deployment names; a pure function of its argument.
@functools.lru_cache(maxsize=4096)
def short_model_id(model: str) -> str:
    """`accounts/fireworks/models/kimi-k2.6` and `kimi-k2p6` both become `kimi-k2p6`.

    Billing line items use short ids with `p` for the decimal point; usage may carry the
    resource name and, in Fireworks' own doc sample, a dotted version.
    """
    return model.rstrip("/").rsplit("/", 1)[-1].strip().lower().replace(".", "p")


def load_price_book(path: Path | None = None) -> PriceBook:
    """Read and validate a price book; None means the one shipped with fwcost."""
    source = path or DEFAULT_PRICE_BOOK
    try:
        with source.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise PriceBookError(f"price book {source}: cannot read it ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise PriceBookError(f"price book {source}: not valid TOML ({error})") from None
    return _parse(document, str(source))


def _parse(document: Mapping[str, object], source: str) -> PriceBook:
    where = _Where(source)
    where.only_fields("the file", document, _SECTIONS)
    defaults = where.table(document, "defaults")
    where.only_fields("[defaults]", defaults, _DEFAULT_FIELDS)
    tiers = {
        name: where.price(f"[tiers] {name}", value)
        for name, value in where.table(document, "tiers").items()
    }
    unknown_tier = str(defaults.get("unknown_model_tier", "over_16b"))
    if unknown_tier not in tiers:
        raise where.error(
            "[defaults] unknown_model_tier", f"names tier {unknown_tier!r}, not in [tiers]"
        )
    cached_fraction = where.fraction(
        "[defaults] cached_input_fraction", defaults.get("cached_input_fraction", "0.5")
    )
    models = {
        name: _model_price(where, name, entry, tiers, cached_fraction)
        for name, entry in where.table(document, "models").items()
    }
    gpu = {
        name: where.price(f"[gpu_usd_per_hour] {name}", value)
        for name, value in where.table(document, "gpu_usd_per_hour").items()
    }
    return PriceBook(
        source=source,
        tiers=tiers,
        models=models,
        gpu_usd_per_hour=gpu,
        cached_input_fraction=cached_fraction,
        batch_fraction=where.fraction(
            "[defaults] batch_fraction", defaults.get("batch_fraction", "0.5")
        ),
        unknown_model_tier=unknown_tier,
        audio_usd_per_minute=where.price(
            "[defaults] audio_usd_per_minute", defaults.get("audio_usd_per_minute", "0")
        ),
    )


def _model_price(
    where: _Where,
    name: str,
    entry: object,
    tiers: Mapping[str, Decimal],
    cached_fraction: Decimal,
) -> TokenPrice:
    label = f"[models.{name!r}]"
    if not isinstance(entry, dict):
        raise where.error(label, "must be a table with input/output prices or a tier")
    where.only_fields(label, entry, _MODEL_FIELDS)
    if "tier" in entry:
        if set(entry) != {"tier"}:
            raise where.error(label, "give either a tier or prices, not both")
        tier = entry["tier"]
        if tier not in tiers:
            raise where.error(f"{label} tier", f"names tier {tier!r}, not in [tiers]")
        return TokenPrice(tiers[tier], tiers[tier] * cached_fraction, tiers[tier])
    for required in ("input", "output"):
        if required not in entry:
            raise where.error(label, f"has no {required} price (or give a tier)")
    input_price = where.price(f"{label} input", entry["input"])
    cached = entry.get("cached_input")
    return TokenPrice(
        input=input_price,
        cached_input=(
            input_price * cached_fraction
            if cached is None
            else where.price(f"{label} cached_input", cached)
        ),
        output=where.price(f"{label} output", entry["output"]),
    )


@dataclass(frozen=True, slots=True)
class _Where:
    """Builds errors that say which file and entry were wrong."""

    source: str

    def error(self, entry: str, problem: str) -> PriceBookError:
        return PriceBookError(f"price book {self.source}: {entry} {problem}")

    def table(self, document: Mapping[str, object], name: str) -> dict[str, object]:
        value = document.get(name, {})
        if not isinstance(value, dict):
            raise self.error(f"[{name}]", "must be a table")
        return value

    def only_fields(self, label: str, table: Mapping[str, object], allowed: frozenset[str]) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.error(
                label,
                f"has unknown field {unknown[0]!r} (expected one of {', '.join(sorted(allowed))})",
            )

    def price(self, entry: str, value: object) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.error(entry, f"must be a number, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(entry, f"must be a finite number, got {value!r}")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.error(entry, f"must be a number, got {value!r}") from None
        if not number.is_finite():
            raise self.error(entry, f"must be a finite number, got {value!r}")
        if number < 0:
            raise self.error(entry, f"must not be negative, got {value!r}")
        return number

    def fraction(self, entry: str, value: object) -> Decimal:
        number = self.price(entry, value)
        if number > 1:
            raise self.error(entry, f"must be between 0 and 1, got {value!r}")
        return number
