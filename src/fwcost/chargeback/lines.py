"""A month's chargeback lines: the archived days' CSVs added up, and unattributed spend placed.

Each day is read through its manifest (the object whose SHA-256 is the manifest's csv_sha256,
checked on read) and streamed row by row into one running total per line, so a month of
100,000-row days holds its lines, never its rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from operator import itemgetter
from typing import Any

from fwcost.archive.day_archive import DayArchive
from fwcost.archive.stores import ArchiveError
from fwcost.report.cents import cents_from_text
from fwcost.report.summary import UNATTRIBUTED_TEAM_LABEL
from fwcost.report.unattributed import UnattributedSpend, spread_cents

UNATTRIBUTED = ""  # the team of spend nobody annotated, as the day's CSV writes it
SHARED_LABEL = "Unattributed spend (shared)"


class LineKind(Enum):
    """What a line bills: the day CSV's usage_kind, and a team's share of unattributed spend."""

    SERVERLESS = "serverless"
    DEDICATED = "dedicated"
    TRAINING = "training"
    BILLED_ONLY = "billed_only"  # a line item with no usage: its category is the deployment
    SHARED_UNATTRIBUTED = "shared_unattributed"  # SPREAD: the team's share, no other detail


@dataclass(frozen=True, slots=True)
class Line:
    """One team × project × environment × kind × API key × model × deployment, for the month.

    Names are as the day CSVs archive them (already neutralised: `'=x` for a name `=x`).
    `model` is the base model for GPU time and the line item's detail for billed-only spend;
    `deployment` is the dedicated deployment, the training job id, or the billed-only category.
    """

    team: str  # UNATTRIBUTED ("") = no team annotation, and every billed-only line
    project: str
    environment: str
    kind: LineKind
    api_key_id: str
    api_key_name: str
    model: str
    deployment: str
    cents: int
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    completion_tokens: int = 0
    accelerator_seconds: int = 0


class Dimension(Enum):
    """A way to break a team's lines down: the Line fields that name a group."""

    PROJECT = ("project",)
    ENVIRONMENT = ("environment",)
    KEY = ("api_key_id", "api_key_name")
    MODEL = ("model",)
    DEPLOYMENT = ("kind", "deployment")


@dataclass(frozen=True, slots=True)
class Chargeback:
    """The month's lines, unattributed spend placed by `policy`; the cents add up to the total.

    `lines` are ordered by team (names sorted, unattributed last), then by the other fields.
    `archived` are the lines before unattributed spend was placed (under ROW, `lines`): the
    account-wide breakdowns read them. `policy` is the one applied: SPREAD falls back to ROW
    when no team has spend to weigh by, and `requested` then says what the setting asked for.
    """

    days: tuple[date, ...]
    lines: tuple[Line, ...]
    archived: tuple[Line, ...]
    policy: UnattributedSpend
    requested: UnattributedSpend
    _by_team: dict[str, list[Line]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_team: dict[str, list[Line]] = {}
        for line in self.lines:
            by_team.setdefault(line.team, []).append(line)
        object.__setattr__(self, "_by_team", by_team)

    @property
    def total_cents(self) -> int:
        return sum(line.cents for line in self.lines)

    @property
    def team_cents(self) -> dict[str, int]:
        """Each team's cents in line order; under ROW, UNATTRIBUTED ("") last when there is any."""
        return {team: sum(line.cents for line in lines) for team, lines in self._by_team.items()}

    @property
    def policy_sentence(self) -> str:
        """What the statement and the workbook say about unattributed spend."""
        what = "Unattributed spend (usage with no team annotation, and billed items with no usage)"
        if self.policy is UnattributedSpend.SPREAD:
            return (
                f"{what} is shared out over the teams in proportion to their own spend this "
                f'month, as a line "{SHARED_LABEL}" on each team.'
            )
        row = f'{what} is shown as its own row, "{UNATTRIBUTED_TEAM_LABEL}"'
        if self.requested is UnattributedSpend.SPREAD:
            return f"{row}: no team had spend to share it over."
        return f"{row}."

    def team_lines(self, team: str) -> list[Line]:
        return list(self._by_team.get(team, ()))

    def breakdown(self, team: str | None, dimension: Dimension) -> dict[tuple[str, ...], int]:
        """Cents by `dimension` (the values of its fields, a LineKind as its value), in line order.

        For a team, its own lines: a SPREAD share is not among them (add `shared_cents(team)`
        for the team's total). For None, the whole account as archived, unattributed spend in
        its own groups: it adds up to `total_cents` under either policy.
        """
        lines = self.archived if team is None else self._by_team.get(team, ())
        cents: dict[tuple[str, ...], int] = defaultdict(int)
        for line in lines:
            if line.kind is not LineKind.SHARED_UNATTRIBUTED:
                cents[_group(line, dimension)] += line.cents
        return dict(cents)

    def shared_cents(self, team: str) -> int:
        """The team's share of unattributed spend (SPREAD; 0 under ROW)."""
        return sum(
            line.cents
            for line in self.team_lines(team)
            if line.kind is LineKind.SHARED_UNATTRIBUTED
        )


def read_month(archive: DayArchive, days: Iterable[date], policy: UnattributedSpend) -> Chargeback:
    """The chargeback of `days` as archived. Each day must be complete (its manifest written):
    the caller names the missing ones first. A day that cannot be read raises ArchiveError."""
    ordered = tuple(sorted(set(days)))
    if not ordered:
        raise ValueError("a chargeback needs at least one day")
    totals: dict[tuple[str, ...], list[int]] = {}
    for day in ordered:
        _add_day(totals, _day_rows(archive, day))
    archived = tuple(sorted(_lines(totals), key=_order))
    lines, applied = _placed(archived, policy)
    return Chargeback(ordered, lines, archived, applied, policy)


# The day CSV's columns a line is keyed by, and those it adds up (fwcost.archive.csv_export).
_KEY_COLUMNS = (
    "team", "project", "environment", "usage_kind", "api_key_id", "api_key_name", "model",
    "deployment", "job_id", "category",
)  # fmt: skip
_COUNT_COLUMNS = (
    "prompt_tokens",
    "cached_prompt_tokens",
    "completion_tokens",
    "accelerator_seconds",
)
_COST_COLUMN = "attributed_cost_usd"


def _day_rows(archive: DayArchive, day: date) -> Iterator[tuple[tuple[str, ...], list[int]]]:
    """The day CSV's rows as (line key cells, [cents, *counts]), from the object its manifest
    names, checked against the manifest's SHA-256."""
    manifest = archive.read_manifest(day)
    if manifest is None:
        raise ArchiveError(f"{archive.day_url(day)} has no manifest: the day is not archived")
    key = _csv_key(manifest, archive.day_url(day))
    body = archive.store.get(key)
    if body is None:
        raise ArchiveError(f"{archive.store.url(key)}: named by its manifest but not found")
    if hashlib.sha256(body).hexdigest() != manifest["csv_sha256"]:
        raise ArchiveError(f"{archive.store.url(key)}: its SHA-256 differs from its manifest's")
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(body), encoding="utf-8", newline=""))
    header = next(reader, [])
    missing = [c for c in (*_KEY_COLUMNS, *_COUNT_COLUMNS, _COST_COLUMN) if c not in header]
    if missing:
        raise ArchiveError(f"{archive.store.url(key)} lacks the columns {', '.join(missing)}")
    line_of = itemgetter(*(header.index(c) for c in _KEY_COLUMNS))
    counts_of = itemgetter(*(header.index(c) for c in _COUNT_COLUMNS))
    cost = header.index(_COST_COLUMN)
    for number, row in enumerate(reader, start=2):
        try:
            yield line_of(row), [cents_from_text(row[cost]), *map(int, counts_of(row))]
        except (IndexError, ValueError) as error:
            raise ArchiveError(f"{archive.store.url(key)} line {number}: {error}") from error


def _csv_key(manifest: Mapping[str, Any], where: str) -> str:
    """The object the manifest lists with the CSV's own SHA-256."""
    digest = manifest.get("csv_sha256")
    for stored in manifest.get("objects") or ():
        if digest and stored.get("sha256") == digest:
            return str(stored["key"])
    raise ArchiveError(f"{where}: the manifest lists no object with its csv_sha256")


def _add_day(
    totals: dict[tuple[str, ...], list[int]], rows: Iterable[tuple[tuple[str, ...], list[int]]]
) -> None:
    for key, values in rows:
        sums = totals.get(key)
        if sums is None:
            totals[key] = values
        else:
            for index, value in enumerate(values):
                sums[index] += value


_KINDS = {kind.value: kind for kind in LineKind if kind is not LineKind.SHARED_UNATTRIBUTED}


def _lines(totals: Mapping[tuple[str, ...], list[int]]) -> Iterator[Line]:
    for key, (cents, prompt, cached, completion, seconds) in totals.items():
        team, project, environment, kind, key_id, key_name, model, deployment, job, category = key
        line_kind = _KINDS.get(kind)
        if line_kind is None:
            raise ArchiveError(f"an archived day has usage_kind {kind!r}, not {', '.join(_KINDS)}")
        where = {LineKind.TRAINING: job, LineKind.BILLED_ONLY: category}.get(line_kind, deployment)
        yield Line(
            team, project, environment, line_kind, key_id, key_name, model, where,
            cents, prompt, cached, completion, seconds,
        )  # fmt: skip


def _order(line: Line) -> tuple[Any, ...]:
    """Teams by name, unattributed last; a team's SPREAD share after its own lines."""
    shared = line.kind is LineKind.SHARED_UNATTRIBUTED
    return (
        line.team == UNATTRIBUTED, line.team, shared, line.project, line.environment,
        line.kind.value, line.api_key_id, line.api_key_name, line.model, line.deployment,
    )  # fmt: skip


def _placed(
    archived: tuple[Line, ...], policy: UnattributedSpend
) -> tuple[tuple[Line, ...], UnattributedSpend]:
    """ROW: the lines as archived. SPREAD: unattributed lines replaced by one share per team,
    in proportion to its own cents (spread_cents: the one rounding rule)."""
    unattributed = [line for line in archived if line.team == UNATTRIBUTED]
    if policy is UnattributedSpend.ROW or not unattributed:
        return archived, policy
    attributed = [line for line in archived if line.team != UNATTRIBUTED]
    team_cents: dict[str, int] = {}
    for line in attributed:
        team_cents[line.team] = team_cents.get(line.team, 0) + line.cents
    try:
        shares = spread_cents(team_cents, sum(line.cents for line in unattributed))
    except ValueError:
        return archived, UnattributedSpend.ROW
    shared = [
        Line(team, "", "", LineKind.SHARED_UNATTRIBUTED, "", "", "", "", cents)
        for team, cents in shares.items()
        if cents
    ]
    return tuple(sorted(attributed + shared, key=_order)), policy


def _group(line: Line, dimension: Dimension) -> tuple[str, ...]:
    values = (getattr(line, name) for name in dimension.value)
    return tuple(value.value if isinstance(value, LineKind) else value for value in values)
