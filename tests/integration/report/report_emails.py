"""The daily emails the HTML tests check: the demo's (overall and every team), the edge days, and
days whose names are hostile (markup, RTL, emoji, very long tokens).

Shared by the validator test and the browser test, so both look at the same emails.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from fwcost.imports.day_export import Difference
from fwcost.links import Link, ReportLinks
from fwcost.model import DayUsage, ServerlessUsage
from fwcost.report.attribution import AttributedDay, attribute_day
from fwcost.report.pricebook import load_price_book
from fwcost.report.render import render_email_html
from fwcost.report.summary import DailySummary, summarize, team_summaries
from report_fixtures import MODEL_PREFIX, TEXT, demo_context, demo_history, demo_usage, read_back

DEMO_DAY = date(2026, 11, 1)
PRICES = load_price_book()

HOSTILE_NAMES = (
    "<b>bold</b> & co",
    "R&D <script>x</script>",
    "فريق البحث",  # Arabic: right to left
    "צוות חיפוש 2",  # Hebrew with a number
    "🔥 growth 🚀",
    "日本語チーム",
    "x" * 300,
    "a" * 60,  # one 60-character token: the last-resort case
    "very-long-hyphenated-team-name-for-the-platform-group",
    "analytics_pipeline_nightly_batch_backfill_v2",
)


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One API key's serverless usage: who it belongs to and what it ran."""

    key_name: str
    team: str
    project: str
    environment: str
    model: str
    prompt_tokens: int


def emails_of(summary: DailySummary, prefix: str, teams: int | None = None) -> dict[str, str]:
    """The overall email and every team's own (or the first `teams`), by a readable name."""
    emails = {f"{prefix} overall": render_email_html(summary)}
    for team, piece in list(team_summaries(summary).items())[:teams]:
        emails[team_email(prefix, team)] = render_email_html(piece)
    return emails


def team_email(prefix: str, team: str) -> str:
    return f"{prefix} team {team[:40]}"


def demo_summary() -> DailySummary:
    today, history = demo_history(DEMO_DAY)
    return summarize(today, read_back(history), demo_context(DEMO_DAY))


def edge_emails() -> dict[str, str]:
    """A day with no usage after busy days, a day without a bill, and a report with presigned
    links (long URLs, `&` in them, and the line saying until when they work)."""
    history = read_back(demo_history(DEMO_DAY, days=14)[1])
    empty = attribute_day(DayUsage(day=DEMO_DAY), PRICES)
    no_bill = demo_usage(DEMO_DAY)
    no_bill.has_summary = False
    no_bill.line_items = []
    no_bill.key_costs = None
    no_bill.gaps = ["usageCosts:query was refused (403): per-key dollars are estimates."]
    context = demo_context(DEMO_DAY, restatements=())
    presigned = "https://acme-fwcost-archive.s3.amazonaws.com/fireworks/account%3Dacme-ai/dt%3D2026-11-01/report/{}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261101T150000Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature={}"
    until = datetime(2026, 11, 8, 15, 0, tzinfo=UTC)
    links = ReportLinks(
        Link(presigned.format("report.html", "a" * 64), "Full report", until),
        Link(presigned.format("report.csv", "b" * 64), "CSV", until),
    )  # fmt: skip
    linked = demo_summary()
    linked = replace(linked, context=replace(linked.context, links=links))
    today, _ = demo_history(DEMO_DAY)
    exported = replace(
        demo_context(DEMO_DAY),
        users={"": 40, **{f"{name}@x.io": 1000 + n for n, name in enumerate(HOSTILE_NAMES)}},
        export_differences=(Difference("prompt tokens <b>", 1_000_000, 900_000),),
    )
    return {
        "users from an export": render_email_html(summarize(today, history, exported)),
        "presigned links": render_email_html(linked),
        "empty day": render_email_html(summarize(empty, history, context)),
        "no bill": render_email_html(summarize(attribute_day(no_bill, PRICES), history, context)),
    }


def hostile_specs() -> list[KeySpec]:
    """Every hostile name as a key, a team, a project, an environment and a model."""
    specs = []
    for n, name in enumerate(HOSTILE_NAMES):
        specs.append(KeySpec(name, name, name, name, name, 3_000_000 + n * 400_000))
        specs.append(KeySpec(f"{name}-batch", name, "p", "prod", "gpt-oss-120b", 1_000_000))
    return specs


def usage_of(day: date, specs: Sequence[KeySpec], scale: float, base: DayUsage) -> DayUsage:
    """`base` (a demo day, with its bill) plus the specs' keys, which the bill does not cover."""
    rows = [
        ServerlessUsage(
            day, MODEL_PREFIX + spec.model, f"key_{zlib.crc32(spec.key_name.encode()):08x}",
            spec.key_name, spec.team, spec.project, spec.environment, TEXT,
            int(spec.prompt_tokens * scale), 0, int(spec.prompt_tokens * scale) // 10, 0.0,
        )
        for spec in specs
    ]  # fmt: skip
    base.serverless.extend(rows)
    return base


def summary_of(
    specs_by_day: dict[date, Sequence[KeySpec]], today: date, *, bill: bool = True, top_n: int = 5
) -> DailySummary:
    """A summary for `today`; every other day in specs_by_day is history."""
    days = days_of(specs_by_day, bill=bill)
    history = read_back({day: value for day, value in days.items() if day != today})
    return summarize(days[today], history, demo_context(today, restatements=(), top_n=top_n))


def days_of(
    specs_by_day: dict[date, Sequence[KeySpec]], *, bill: bool = True
) -> dict[date, AttributedDay]:
    days = {}
    for day, specs in specs_by_day.items():
        base = demo_usage(day) if bill else DayUsage(day=day, has_summary=False)
        scale = 1.0 + (day.toordinal() % 5) / 4
        days[day] = attribute_day(usage_of(day, specs, scale, base), PRICES)
    return days


def hostile_specs_by_day() -> dict[date, Sequence[KeySpec]]:
    """Every hostile name on the demo day, all but one key's on the 14 days before."""
    specs = hostile_specs()
    trailing = {DEMO_DAY - timedelta(days=n): specs[: len(specs) - 2] for n in range(1, 15)}
    return {**trailing, DEMO_DAY: specs}


def hostile_summary() -> DailySummary:
    return summary_of(hostile_specs_by_day(), DEMO_DAY, top_n=len(hostile_specs()))


def period_emails() -> dict[str, str]:
    """The month's statement (both FWCOST_UNATTRIBUTED modes, reconciled with a credit, and
    revised) and the weekly digest, overall and per team: the demo's days, and a week of hostile
    names."""
    from fwcost.model import LineItem
    from fwcost.periods.content import PeriodContext, PeriodData, add_up_days, build_reports
    from fwcost.periods.model import Period
    from fwcost.periods.reconcile import reconcile
    from fwcost.periods.render import render_period
    from fwcost.report.cents import cents_of
    from fwcost.report.unattributed import UnattributedSpend

    today, history = demo_history(DEMO_DAY, days=62)
    demo_days = {**history, today.day: today}
    hostile_days = days_of(hostile_specs_by_day())
    month, week = Period.month(2026, 10), Period.iso_week(DEMO_DAY)

    def data(period: Period, days: dict[date, AttributedDay]) -> PeriodData:
        return PeriodData(
            period=period,
            days={d: days[d] for d in period.days},
            earlier=[(p, {d: days[d] for d in p.days if d in days}) for p in period.earlier(4)],
            month_so_far={d: days[d] for d in Period.month_of(period.end).days if d in days},
        )

    def context(mode: UnattributedSpend) -> PeriodContext:
        return PeriodContext(
            account_id="acme-ai",
            timezone="America/Los_Angeles",
            code_version="0.1.0",
            archive_location="s3://acme-fwcost-archive/fireworks/account=acme-ai/statements/",
            top_n=5,
            unattributed=mode,
            account_budget=Decimal(60000),
            team_budgets={"search": Decimal(12000), "ads & growth": Decimal(1500)},
        )

    total = add_up_days([demo_days[d] for d in month.days], month.start)
    billed = total.billed_total or Decimal(0)
    items = [
        LineItem(month.start, "Text Completion", "", "", "", "", "", 1.0, Decimal(0), billed),
        LineItem(month.start, "Promotional credit", "", "", "", "", "", 1.0, Decimal(0), Decimal(-200)),
    ]  # fmt: skip
    bill = reconcile(
        items, "", archived_billed=billed, estimated_cents=total.estimated_cents,
        total_cents=cents_of(billed) + total.estimated_cents,
    )  # fmt: skip
    emails: dict[str, str] = {}
    runs = [
        ("statement", build_reports(data(month, demo_days), context(UnattributedSpend.ROW), reconciliation=bill)),
        ("statement spread", build_reports(data(month, demo_days), context(UnattributedSpend.SPREAD))),
        ("statement revised", build_reports(
            data(month, demo_days), context(UnattributedSpend.ROW), issue=2,
            previous_issue=("2026-11-03T15:45:00+00:00", {"search": 1, "": 2}),
        )[:1]),
        ("digest", build_reports(data(week, demo_days), context(UnattributedSpend.ROW))),
        ("digest hostile", build_reports(data(week, hostile_days), context(UnattributedSpend.ROW))),
    ]  # fmt: skip
    for prefix, reports in runs:
        for report in reports:
            emails[f"{prefix} {report.team[:40] if report.team else 'overall'}"] = render_period(
                report
            ).html
    return emails
