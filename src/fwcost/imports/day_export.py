"""What the archive keeps of a day's exports, and what reports and imports make of it.

`dt=.../export.json` holds, per export file that covered the day, its sums per group (email ×
usage type × model × accelerator) and the span of its requests' start times. Files are taken to
cover separate spans, as `firectl billing export-metrics` windows do: a local day that straddles
two monthly UTC exports gets both halves. A later file whose span overlaps an earlier one's
replaces it (a re-export of the same window, with late rows): nothing is counted twice.

From the sums: the `DayUsage` that attribution prices (no API key or team in an export: its
usage is unattributed), each user's cents, and the quantities compared with the API's.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum
from typing import Any

from fwcost.archive import DayArchive
from fwcost.imports.export_csv import ExportDay, GroupKey, GroupSums
from fwcost.model import DayUsage, DedicatedUsage, ServerlessUsage, TrainingUsage
from fwcost.report.attribution import UNATTRIBUTED_KEY, AttributedDay, attribute_day
from fwcost.report.pricebook import PriceBook

EXPORT_GAP = (
    "Known from a firectl billing export only: dollars are price-book estimates, and the "
    "export names no API key, team or deployment."
)

BILLED_EXPORT_GAP = (
    "Usage known from a firectl billing export, shared out over Fireworks' bill for the day "
    "(the billing API gave no usage for it); the export names no API key, team or deployment."
)


class DaySource(Enum):
    """Where an archived day's figures come from (the manifest's "source"; absent: the API)."""

    API = "api"
    EXPORT = "export"

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> DaySource:
        return cls(manifest.get("source", cls.API.value))


@dataclass(frozen=True, slots=True)
class ExportFileDay:
    sha256: str
    name: str
    first_start: str
    last_start: str
    groups: dict[GroupKey, GroupSums]

    def overlaps(self, other: ExportFileDay) -> bool:
        return self.first_start <= other.last_start and other.first_start <= self.last_start

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "name": self.name,
            "first_start": self.first_start,
            "last_start": self.last_start,
            "groups": [
                {
                    "email": key.email,
                    "usage_type": key.usage_type,
                    "model": key.model,
                    "model_bucket": key.model_bucket,
                    "accelerator_type": key.accelerator_type,
                    **sums.to_json(),
                }
                for key, sums in self.groups.items()
            ],
        }

    @classmethod
    def from_json(cls, day: date, document: Mapping[str, Any]) -> ExportFileDay:
        groups = {}
        for group in document["groups"]:
            key = GroupKey(
                day,
                group["email"],
                group["usage_type"],
                group["model"],
                group["model_bucket"],
                group["accelerator_type"],
            )
            groups[key] = GroupSums.from_json(group)
        return cls(
            document["sha256"],
            document["name"],
            document["first_start"],
            document["last_start"],
            groups,
        )


def file_day(sha256: str, name: str, export_day: ExportDay) -> ExportFileDay:
    return ExportFileDay(
        sha256, name, export_day.first_start, export_day.last_start, export_day.groups
    )


def add_file(
    record: Mapping[str, Any] | None, day: date, new: ExportFileDay
) -> list[ExportFileDay]:
    """The day's files once `new` is added: an earlier file it overlaps (or itself) replaced."""
    earlier = [ExportFileDay.from_json(day, f) for f in (record or {}).get("files", [])]
    return [f for f in earlier if f.sha256 != new.sha256 and not f.overlaps(new)] + [new]


def record_json(day: date, files: Iterable[ExportFileDay]) -> dict[str, Any]:
    return {"day": day.isoformat(), "files": [f.to_json() for f in files]}


def files_of(day: date, record: Mapping[str, Any] | None) -> list[ExportFileDay]:
    return [ExportFileDay.from_json(day, f) for f in (record or {}).get("files", [])]


def merged(files: Iterable[ExportFileDay]) -> dict[GroupKey, GroupSums]:
    sums: dict[GroupKey, GroupSums] = defaultdict(GroupSums)
    for file in files:
        for key, group in file.groups.items():
            sums[key].add(group)
    return dict(sums)


@dataclass(slots=True)
class ExportUsage:
    """A day's export as attribution's input, with the email of each row beside it."""

    usage: DayUsage
    serverless_emails: list[str]
    dedicated_emails: list[str]
    training_emails: list[str]

    def user_cents(self, attribution: AttributedDay) -> dict[str, int]:
        """Each user's cents: the sum of their rows' cents (so the view adds up like the rest)."""
        cents: dict[str, int] = defaultdict(int)
        for emails, row_cents in (
            (self.serverless_emails, attribution.serverless_cents),
            (self.dedicated_emails, attribution.dedicated_cents),
            (self.training_emails, attribution.training_cents),
        ):
            for email, value in zip(emails, row_cents, strict=True):
                cents[email] += value
        return dict(cents)


def export_usage(day: date, groups: Mapping[GroupKey, GroupSums]) -> ExportUsage:
    """One usage row per group: training and GPU time by their accelerator-seconds, the rest
    as serverless tokens. No bill (an export carries none): attribution prices it all."""
    result = ExportUsage(DayUsage(day, has_summary=False, gaps=[EXPORT_GAP]), [], [], [])
    usage = result.usage
    for key, sums in sorted(groups.items(), key=lambda item: _order(item[0])):
        kind = key.usage_type.upper()
        seconds = int(sums.accelerator_seconds.to_integral_value(ROUND_HALF_EVEN))
        model = key.model or key.model_bucket
        if "TRAIN" in kind or "FINE_TUN" in kind:
            usage.training.append(
                TrainingUsage(
                    day, job_id="", job_type=key.usage_type, base_model=model,
                    accelerator_type=key.accelerator_type, team="", project="", environment="",
                    usage_type=key.usage_type, accelerator_seconds=seconds,
                )
            )  # fmt: skip
            result.training_emails.append(key.email)
        elif sums.accelerator_seconds or "DEDICATED" in kind:
            # No deployment in an export: its base model stands for it.
            usage.dedicated.append(
                DedicatedUsage(
                    day, deployment=model, accelerator_type=key.accelerator_type,
                    base_model=model, placement="", team="", project="", environment="",
                    usage_type=key.usage_type, accelerator_seconds=seconds,
                )
            )  # fmt: skip
            result.dedicated_emails.append(key.email)
        else:
            usage.serverless.append(
                ServerlessUsage(
                    day, model=model, api_key_id=UNATTRIBUTED_KEY, api_key_name="", team="",
                    project="", environment="", usage_type=key.usage_type,
                    prompt_tokens=sums.prompt_tokens,
                    cached_prompt_tokens=sums.cached_prompt_tokens,
                    completion_tokens=sums.completion_tokens, audio_input_seconds=0.0,
                )
            )  # fmt: skip
            result.serverless_emails.append(key.email)
    return result


def _order(key: GroupKey) -> tuple[str, ...]:
    return (key.usage_type, key.model, key.model_bucket, key.accelerator_type, key.email)


@dataclass(frozen=True, slots=True)
class Quantities:
    """What both the billing API and an export measure for a day (not dollars: the export's
    are estimates, the API's the bill)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    accelerator_seconds: int = 0


def usage_quantities(usage: DayUsage) -> Quantities:
    return Quantities(
        sum(row.prompt_tokens for row in usage.serverless),
        sum(row.completion_tokens for row in usage.serverless),
        sum(row.accelerator_seconds for row in usage.dedicated)
        + sum(row.accelerator_seconds for row in usage.training),
    )


def csv_quantities(body: bytes) -> Quantities:
    """The quantities of an archived csv/usage.csv (fwcost.archive.csv_export's columns)."""
    prompt = completion = seconds = 0
    for row in csv.DictReader(io.StringIO(body.decode("utf-8"))):
        prompt += int(row["prompt_tokens"] or 0)
        completion += int(row["completion_tokens"] or 0)
        seconds += int(Decimal(row["accelerator_seconds"] or 0))
    return Quantities(prompt, completion, seconds)


@dataclass(frozen=True, slots=True)
class Difference:
    """A quantity the export and the API disagree on by more than the threshold."""

    what: str  # "prompt tokens", "completion tokens", "accelerator-seconds"
    api: int
    export: int

    @property
    def percent(self) -> Decimal:
        base = self.api or 1
        return (Decimal(self.export - self.api) * 100 / base).quantize(Decimal("0.1"))

    @property
    def text(self) -> str:
        return f"{self.what} {self.export:,} in the export vs {self.api:,} from the API ({self.percent:+}%)"

    def to_json(self) -> dict[str, Any]:
        return {"what": self.what, "api": self.api, "export": self.export}


def export_of_day(
    day: date, archive: DayArchive, prices: PriceBook, api: DayUsage, percent: Decimal
) -> tuple[dict[str, int], list[Difference]]:
    """What a report of `day` adds from its imported exports: each user's cents at list price,
    and the quantities over `percent` off the API's `api` usage. Nothing without an export."""
    files = files_of(day, archive.read_json(archive.export_key(day)))
    if not files:
        return {}, []
    built = export_usage(day, merged(files))
    users = built.user_cents(attribute_day(built.usage, prices))
    return users, differences(usage_quantities(api), usage_quantities(built.usage), percent)


def differences(api: Quantities, export: Quantities, percent: Decimal) -> list[Difference]:
    """The quantities that differ by more than `percent` of the API's figure."""
    found = []
    for what, ours, theirs in (
        ("prompt tokens", api.prompt_tokens, export.prompt_tokens),
        ("completion tokens", api.completion_tokens, export.completion_tokens),
        ("accelerator-seconds", api.accelerator_seconds, export.accelerator_seconds),
    ):
        if abs(theirs - ours) * 100 > percent * max(ours, 0) and theirs != ours:
            found.append(Difference(what, ours, theirs))
    return found
