"""From a day's summary to the messages that go out: overall and one per team, in three forms."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date

from fwcost.archive import UsageCsv
from fwcost.config import DEFAULT_MAX_TEAM_REPORTS
from fwcost.delivery import Attachment, OutgoingReport
from fwcost.delivery.model import name_segment
from fwcost.links import Link, ReportLinks
from fwcost.model import DayUsage
from fwcost.report.attribution import AttributedDay
from fwcost.report.render import email_subject, render_email_html, render_email_text
from fwcost.report.slack_message import render_slack
from fwcost.report.summary import DailySummary, omitted_teams, team_summaries

# (a report file's name as report_files gives it, its label) -> a link to its archived copy
LinkTo = Callable[[str, str], Link]
# The CSV each report sends, kept beside it under a fixed name: the folder says whose it is,
# and a team's attachment name (fwcost-<account>-<day>-<team>.csv) could outgrow a path segment.
REPORT_CSV = "report.csv"
CSV = "text/csv"


def outgoing_reports(
    summary: DailySummary,
    usage: DayUsage,
    attribution: AttributedDay,
    *,
    account_id: str,
    timezone: str,
    max_team_reports: int = DEFAULT_MAX_TEAM_REPORTS,
    link_to: LinkTo | None = None,
    csv_body: bytes | None = None,
) -> list[OutgoingReport]:
    """The overall report, then each team's, each with the CSV rows it may see.

    Only the `max_team_reports` largest teams get a report; the overall one notes the rest.
    With `link_to`, each report links to its own archived copy and CSV (a team's to its own).
    `csv_body`: the day's CSV (usage_csv) when already written, so it is not written again.
    """
    csv = (
        UsageCsv(usage, account_id, timezone, attribution)
        if csv_body is None
        else UsageCsv.of_body(usage, csv_body)
    )
    overall = replace(summary, omitted_teams=omitted_teams(summary, max_team_reports))
    reports = [_report(None, overall, usage.day, csv, account_id, link_to)]
    for team, team_summary in sorted(team_summaries(summary, max_team_reports).items()):
        reports.append(_report(team, team_summary, usage.day, csv, account_id, link_to))
    return reports


def report_files(
    reports: Sequence[OutgoingReport],
    attachment_name: Callable[[Attachment], str] = lambda _: REPORT_CSV,
) -> dict[str, bytes]:
    """Relative paths of the rendered reports and what each attaches: report.html,
    report.txt, slack.json, then each attachment (a day's CSV is report.csv), then
    teams/<segment>/report.html, ..., where <segment> is the team's name_segment (the team
    itself for a plain name)."""
    files: dict[str, bytes] = {}
    for report in reports:
        folder = report_folder(report.team)
        files[f"{folder}report.html"] = report.html.encode()
        files[f"{folder}report.txt"] = report.text.encode()
        files[f"{folder}slack.json"] = json.dumps(
            report.slack, indent=2, ensure_ascii=False
        ).encode()
        for attachment in report.attachments:
            files[folder + attachment_name(attachment)] = attachment.body
    return files


def report_folder(team: str | None) -> str:
    return "" if team is None else f"teams/{name_segment(team)}/"


def _report(
    team: str | None,
    summary: DailySummary,
    day: date,
    csv: UsageCsv,
    account_id: str,
    link_to: LinkTo | None,
) -> OutgoingReport:
    suffix = "" if team is None else f"-{name_segment(team)}"
    if link_to is not None:
        folder = report_folder(team)
        links = ReportLinks(
            report=link_to(f"{folder}report.html", "Full report"),
            csv=link_to(f"{folder}{REPORT_CSV}", "CSV"),
        )
        summary = replace(summary, context=replace(summary.context, links=links))
    return OutgoingReport(
        team=team,
        subject=email_subject(summary),
        html=render_email_html(summary),
        text=render_email_text(summary),
        slack=render_slack(summary),
        attachments=(
            Attachment(f"fwcost-{account_id}-{day.isoformat()}{suffix}.csv", CSV, csv.body(team)),
        ),
    )
