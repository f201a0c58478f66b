from datetime import date, timedelta

from fwcost.archive import DayArchive, LocalStore
from fwcost.pipeline import HISTORY_DAYS, days_to_fetch, load_history

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
