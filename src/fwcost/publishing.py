"""From a day's summary to the messages that go out: overall and one per team, in three forms."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from fwcost.archive import UsageCsv
from fwcost.config import DEFAULT_MAX_TEAM_REPORTS
from fwcost.delivery import OutgoingReport
from fwcost.delivery.model import name_segment
from fwcost.model import DayUsage
from fwcost.report.attribution import AttributedDay
from fwcost.report.render import email_subject, render_email_html, render_email_text
from fwcost.report.slack_message import render_slack
from fwcost.report.summary import DailySummary, omitted_teams, team_summaries


def outgoing_reports(
    summary: DailySummary,
    usage: DayUsage,
    attribution: AttributedDay,
    *,
    account_id: str,
    timezone: str,
    max_team_reports: int = DEFAULT_MAX_TEAM_REPORTS,
) -> list[OutgoingReport]:
    """The overall report, then each team's, each with the CSV rows it may see.

    Only the `max_team_reports` largest teams get a report; the overall one notes the rest.
    """
    csv = UsageCsv(usage, account_id, timezone, attribution)
    overall = replace(summary, omitted_teams=omitted_teams(summary, max_team_reports))
    reports = [_report(None, overall, usage.day, csv, account_id)]
    for team, team_summary in sorted(team_summaries(summary, max_team_reports).items()):
        reports.append(_report(team, team_summary, usage.day, csv, account_id))
    return reports


def report_files(reports: list[OutgoingReport]) -> dict[str, bytes]:
    """Relative paths of the rendered reports: report.html, ..., teams/<segment>/report.html,
    where <segment> is the team's name_segment (the team itself for a plain name)."""
    files: dict[str, bytes] = {}
    for report in reports:
        folder = "" if report.team is None else f"teams/{name_segment(report.team)}/"
        files[f"{folder}report.html"] = report.html.encode()
        files[f"{folder}report.txt"] = report.text.encode()
        files[f"{folder}slack.json"] = json.dumps(
            report.slack, indent=2, ensure_ascii=False
        ).encode()
    return files


def _report(
    team: str | None, summary: DailySummary, day: date, csv: UsageCsv, account_id: str
) -> OutgoingReport:
    suffix = "" if team is None else f"-{name_segment(team)}"
    return OutgoingReport(
        team=team,
        subject=email_subject(summary),
        html=render_email_html(summary),
        text=render_email_text(summary),
        slack=render_slack(summary),
        csv_name=f"fwcost-{account_id}-{day.isoformat()}{suffix}.csv",
        csv_bytes=csv.body(team),
    )
