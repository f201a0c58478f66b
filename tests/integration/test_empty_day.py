"""An empty day: said plainly when the account is quiet, flagged when spend stopped suddenly."""

from dataclasses import replace
from datetime import date

from fwcost.config import load_settings
from fwcost.model import DayUsage
from fwcost.pipeline import run_report_day
from fwcost.wiring import build_dependencies

DAY = date(2026, 11, 21)


class NothingOnTheReportDay:
    """Fireworks as it looks while a day's data has not arrived: the day comes back empty."""

    def __init__(self, real):
        self.real = real

    def fetch_window(self, start, end, tz):
        pull = self.real.fetch_window(start, end, tz)
        if DAY in pull.days:
            pull.days[DAY] = DayUsage(DAY)
        return pull


def test_an_empty_day_after_days_with_spend_is_flagged_not_called_fine(tmp_path, simulator):
    settings = load_settings({
        "FWCOST_ACCOUNT_ID": "acme-ai", "FWCOST_API_KEY": "fw_sim_admin_key",
        "FWCOST_FIREWORKS_BASE_URL": simulator.base_url, "FWCOST_ARCHIVE_DIR": str(tmp_path),
    })  # fmt: skip
    deps, client = build_dependencies(settings, api_key="fw_sim_admin_key")
    with client:
        result = run_report_day(DAY, replace(deps, source=NothingOnTheReportDay(client)))

    overall = result.reports[0]
    text = " ".join(overall.text.split())  # the plain text wraps at 72 columns
    assert overall.audience == "overall"
    assert "No Fireworks usage or charges" in text
    assert "its data may still be arriving" in text
    assert "This is not an error" not in text
    assert "its data may still be arriving" in str(overall.slack)
    assert "its data may still be arriving" in overall.html
