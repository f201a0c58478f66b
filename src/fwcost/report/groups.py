"""Group totals of one attributed day: the small, archived shape that later days read back.

Each amount carries both the exact Decimal dollars (to the nano-dollar, like Fireworks' Money: for
audit and for noticing a restated day) and its whole cents, the sum of its usage rows' cents
(cents.py): every report figure reads the cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fwcost.report.cents import cents_of

ZERO = Decimal(0)


@dataclass(slots=True)
class Amount:
    """Dollars and quantities of one group. `estimated` is the part of `cost` not from the bill.

    `cost` and `estimated` are exact; `cents` and `estimated_cents` are their displayed cents.
    """

    cost: Decimal = ZERO
    cents: int = 0
    estimated: Decimal = ZERO
    estimated_cents: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    completion_tokens: int = 0
    gpu_seconds: int = 0
    audio_seconds: float = 0.0

    def add(self, other: Amount) -> None:
        self.cost += other.cost
        self.cents += other.cents
        self.estimated += other.estimated
        self.estimated_cents += other.estimated_cents
        self.prompt_tokens += other.prompt_tokens
        self.cached_prompt_tokens += other.cached_prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.gpu_seconds += other.gpu_seconds
        self.audio_seconds += other.audio_seconds

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"cost": str(self.cost), "cents": self.cents}
        if self.estimated:
            document["estimated"] = str(self.estimated)
            document["estimated_cents"] = self.estimated_cents
        for name in (
            "prompt_tokens",
            "cached_prompt_tokens",
            "completion_tokens",
            "gpu_seconds",
            "audio_seconds",
        ):
            value = getattr(self, name)
            if value:
                document[name] = value
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Amount:
        """Cents are 0 when absent (attribution.json version 1): the day's reader fills them.

        A report reads 30 archived days of these (a hundred thousand on a large account), so
        only what is there is converted: JSON's integers are already ints.
        """
        get = document.get
        estimated, audio = get("estimated"), get("audio_seconds")
        return cls(
            Decimal(document["cost"]),
            int(get("cents", 0)),
            ZERO if estimated is None else Decimal(estimated),
            int(get("estimated_cents", 0)),
            get("prompt_tokens", 0),
            get("cached_prompt_tokens", 0),
            get("completion_tokens", 0),
            get("gpu_seconds", 0),
            0.0 if audio is None else float(audio),
        )


@dataclass(slots=True)
class KeyGroup:
    name: str
    amount: Amount = field(default_factory=Amount)


@dataclass(slots=True)
class DeploymentGroup:
    """A dedicated deployment or a training job: GPU time on one accelerator type."""

    accelerator: str
    kind: str  # "dedicated" or "training"
    amount: Amount = field(default_factory=Amount)


@dataclass(slots=True)
class TeamGroups:
    """One team's totals and its breakdowns. The team "" is usage with no team annotation."""

    amount: Amount = field(default_factory=Amount)
    projects: dict[str, Amount] = field(default_factory=dict)
    environments: dict[str, Amount] = field(default_factory=dict)
    keys: dict[str, KeyGroup] = field(default_factory=dict)  # "" = not per key (GPU time)
    models: dict[str, Amount] = field(default_factory=dict)
    deployments: dict[str, DeploymentGroup] = field(default_factory=dict)

    def add_row(
        self,
        amount: Amount,
        *,
        project: str,
        environment: str,
        key: tuple[str, str],
        model: str | None,
        deployment: tuple[str, str, str] | None,
    ) -> None:
        """Add one usage row; key is (id, name), deployment is (name, accelerator, kind)."""
        self.amount.add(amount)
        self.projects.setdefault(project, Amount()).add(amount)
        self.environments.setdefault(environment, Amount()).add(amount)
        key_id, key_name = key
        key_group = self.keys.setdefault(key_id, KeyGroup(key_name))
        key_group.name = key_group.name or key_name
        key_group.amount.add(amount)
        if model is not None:
            self.models.setdefault(model, Amount()).add(amount)
        if deployment is not None:
            name, accelerator, kind = deployment
            self.deployments.setdefault(name, DeploymentGroup(accelerator, kind)).amount.add(amount)

    def breakdowns(self) -> list[list[Amount]]:
        """The team's amounts split each way; each list adds up to the team's amount."""
        return [
            list(self.projects.values()),
            list(self.environments.values()),
            [group.amount for group in self.keys.values()],
            [*self.models.values(), *(group.amount for group in self.deployments.values())],
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.amount.to_json(),
            "projects": {name: value.to_json() for name, value in self.projects.items()},
            "environments": {name: value.to_json() for name, value in self.environments.items()},
            "keys": {
                key_id: {"name": group.name, **group.amount.to_json()}
                for key_id, group in self.keys.items()
            },
            "models": {name: value.to_json() for name, value in self.models.items()},
            "deployments": {
                name: {"accelerator": group.accelerator, "kind": group.kind}
                | group.amount.to_json()
                for name, group in self.deployments.items()
            },
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> TeamGroups:
        return cls(
            amount=Amount.from_json(document["total"]),
            projects={k: Amount.from_json(v) for k, v in document["projects"].items()},
            environments={k: Amount.from_json(v) for k, v in document["environments"].items()},
            keys={
                k: KeyGroup(v.get("name", ""), Amount.from_json(v))
                for k, v in document["keys"].items()
            },
            models={k: Amount.from_json(v) for k, v in document["models"].items()},
            deployments={
                k: DeploymentGroup(v["accelerator"], v["kind"], Amount.from_json(v))
                for k, v in document["deployments"].items()
            },
        )


@dataclass(frozen=True, slots=True)
class TeamCents:
    """One team's cents on an earlier day: all a report reads of a team's history (summary.py),
    so 30 archived days are read as a few dicts of ints each, not as Amounts."""

    cents: int
    keys: dict[str, int]  # key id -> cents ("" = not per key, as TeamGroups.keys)
    key_names: dict[str, str]  # key id -> name, the named keys only
    models: dict[str, int]
    deployments: dict[str, int]

    @classmethod
    def of(cls, groups: TeamGroups) -> TeamCents:
        return cls(
            groups.amount.cents,
            {key_id: key.amount.cents for key_id, key in groups.keys.items()},
            {key_id: key.name for key_id, key in groups.keys.items() if key.name},
            {model: amount.cents for model, amount in groups.models.items()},
            {name: group.amount.cents for name, group in groups.deployments.items()},
        )

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> TeamCents:
        """TeamGroups.to_json's document, which has cents (attribution.json version 2 on)."""
        keys = document["keys"]
        return cls(
            document["total"]["cents"],
            {key_id: key["cents"] for key_id, key in keys.items()},
            {key_id: name for key_id, key in keys.items() if (name := key.get("name"))},
            {model: amount["cents"] for model, amount in document["models"].items()},
            {name: group["cents"] for name, group in document["deployments"].items()},
        )


@dataclass(frozen=True, slots=True)
class PriceCheck:
    """How far the price book is from the bill for one model or category (or billed=None).

    `billed_cents` is the sum of the cents of the usage rows those line items were shared over.
    """

    label: str
    billed: Decimal | None
    price_book: Decimal | None
    billed_cents: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "billed": None if self.billed is None else str(self.billed),
            "billed_cents": self.billed_cents,
            "price_book": None if self.price_book is None else str(self.price_book),
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> PriceCheck:
        billed, book = document.get("billed"), document.get("price_book")
        cents = document.get("billed_cents")
        if cents is None and billed is not None:  # attribution.json version 1
            cents = cents_of(Decimal(billed))
        return cls(
            document["label"],
            None if billed is None else Decimal(billed),
            None if book is None else Decimal(book),
            cents,
        )
