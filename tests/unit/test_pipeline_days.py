from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fwcost.archive import DayArchive, LocalStore
from fwcost.dates import days_between, is_complete
from fwcost.model import DayUsage, LineItem, WindowPull
from fwcost.pipeline import (
    HISTORY_DAYS,
    Dependencies,
    days_to_fetch,
    fetched_early,
    load_history,
    run_backfill,
    run_report_day,
)
from fwcost.report.pricebook import load_price_book
from samples import raw_response

DAY = date(2026, 11, 21)


def test_a_daily_run_fetches_the_day_the_day_before_and_only_missing_history():
    history = {DAY - timedelta(days=n) for n in range(2, HISTORY_DAYS + 1)}
    assert days_to_fetch(DAY, archived=history) == {DAY, DAY - timedelta(days=1)}
    assert days_to_fetch(DAY, archived=set()) == {
        DAY - timedelta(days=n) for n in range(HISTORY_DAYS + 1)
    }
    # the day before is fetched again even when archived: late data restates it
    assert DAY - timedelta(days=1) in days_to_fetch(
        DAY, archived=history | {DAY - timedelta(days=1)}
    )


def test_history_never_reads_a_day_the_archive_does_not_hold_complete(tmp_path):
    # Given an attribution.json left by a run that failed before its manifest
    archive = DayArchive(LocalStore(tmp_path), "p", "acme-ai")
    half_written = DAY - timedelta(days=3)
    archive.store.put(
        f"{archive.day_prefix(half_written)}/attribution.json", b"not even json", "application/json"
    )

    # Then history skips it (no manifest, so not in the listing) instead of reading it
    assert load_history(DAY, archive, archive.complete_days(), fresh={}) == {}


# ---- a day archived before it was complete is fetched again --------------------------------

LA = ZoneInfo("America/Los_Angeles")
SETTLE = timedelta(hours=1)


class ClockedFireworks:
    """Fireworks at a given instant (the fake clock): a day still in progress bills $4 so far,
    a complete day $10; every window fetched is recorded."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.windows: list[tuple[date, date]] = []

    def fetch_window(self, start: date, end: date, tz: ZoneInfo) -> WindowPull:
        self.windows.append((start, end))
        days = {}
        for day in days_between(start, end):
            cost = Decimal(10) if is_complete(day, self.now, tz, timedelta(0)) else Decimal(4)
            item = LineItem(day, "Text Completion", "model", "m", "", "", "", 1.0, cost, cost)
            days[day] = DayUsage(day, line_items=[item])
        raw = [replace(raw_response("billingUsage", b"{}"), fetched_at=self.now)]
        return WindowPull(start, end, raw, days)

    def fetched_days(self) -> set[date]:
        return {day for start, end in self.windows for day in days_between(start, end)}


def deps_for(tmp_path, source: ClockedFireworks) -> Dependencies:
    archive = DayArchive(LocalStore(tmp_path), "fireworks", "acme-ai")
    return Dependencies(
        source=source, archive=archive, prices=load_price_book(None), timezone=LA, settle=SETTLE
    )


def local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LA).astimezone(UTC)


def manifest(deps: Dependencies, day: date) -> dict:
    found = deps.archive.read_manifest(day)
    assert found is not None
    return found


def test_a_day_archived_while_in_progress_is_fetched_again_and_rewritten(tmp_path):
    # Given a backfill that ran at 22:00 on DAY-3, so DAY-3 was archived with $4 of its $10
    early = DAY - timedelta(days=3)
    source = ClockedFireworks(now=local(early, 22))
    deps = deps_for(tmp_path, source)
    run_backfill(DAY - timedelta(days=HISTORY_DAYS), early, deps)
    assert manifest(deps, early)["total_usd"] == "4"
    assert manifest(deps, early - timedelta(days=1))["total_usd"] == "10"

    # When DAY is reported the next morning
    source.now, source.windows = local(DAY + timedelta(days=1), 7), []
    result = run_report_day(DAY, deps)

    # Then the early day is fetched again with DAY and the day before, its complete
    # neighbours are not, and the archive and the report carry its full $10
    assert source.fetched_days() == {DAY, DAY - timedelta(days=1), DAY - timedelta(days=2), early}
    assert manifest(deps, early)["total_usd"] == "10"
    fetched_at = manifest(deps, early)["requests"][0]["fetched_at"]
    assert datetime.fromisoformat(fetched_at) == local(DAY + timedelta(days=1), 7)
    assert [(r.day, r.old_total, r.new_total) for r in result.restatements] == [
        (early, Decimal(4), Decimal(10))
    ]


def test_an_early_copy_that_has_not_changed_is_rewritten_once_then_left_alone(tmp_path):
    # Given DAY-3 archived at 00:30 the next night, inside the settle margin: already $10
    early = DAY - timedelta(days=3)
    source = ClockedFireworks(now=local(early + timedelta(days=1), 0) + timedelta(minutes=30))
    deps = deps_for(tmp_path, source)
    run_backfill(DAY - timedelta(days=HISTORY_DAYS), early, deps)
    assert fetched_early(manifest(deps, early), SETTLE)

    # When DAY is reported, the early day is fetched again; its figures stand, its fetch time
    # is brought up to date, and no revision is claimed
    source.now, source.windows = local(DAY + timedelta(days=1), 7), []
    result = run_report_day(DAY, deps)
    assert early in source.fetched_days()
    assert not fetched_early(manifest(deps, early), SETTLE)
    assert result.restatements == []

    # So the next day's run does not fetch it again
    source.now, source.windows = local(DAY + timedelta(days=2), 7), []
    run_report_day(DAY + timedelta(days=1), deps)
    assert early not in source.fetched_days()


@pytest.mark.parametrize(
    ("manifest_doc", "early"),
    [
        (None, True),
        ({}, True),  # says nothing of when it was fetched
        ({"day_end": "2026-11-22T08:00:00Z", "written_at": "2026-11-22T08:59:59+00:00"}, True),
        ({"day_end": "2026-11-22T08:00:00Z", "written_at": "2026-11-22T09:00:00+00:00"}, False),
        (
            {
                "day_end": "2026-11-22T08:00:00Z",
                "written_at": "2026-11-22T15:00:00+00:00",
                "requests": [
                    {"fetched_at": "2026-11-22T15:00:00+00:00"},
                    {"fetched_at": "2026-11-22T08:30:00+00:00"},  # the earliest response counts
                ],
            },
            True,
        ),
        ({"day_end": "not a time", "written_at": "2026-11-22T09:00:00+00:00"}, True),
    ],
)
def test_fetched_early_reads_the_manifest_and_takes_doubt_as_early(manifest_doc, early):
    assert fetched_early(manifest_doc, SETTLE) is early
