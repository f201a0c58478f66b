"""The fault-injection scenarios: what each injects, and whether the run it hits must fail.

One test per scenario (tests/faults/test_*.py) injects the fault into the deployed function,
invokes it as the schedule would, then plays what production does next (Lambda's two retries
with the same request id, the next scheduled run, or the fault clearing) until the day is
delivered, and measures (tests/faults/lab.py): lost deliveries, duplicates, secrets found, and
whether the run failed loudly. The README's "Reliability" section states the figures this table
implies; tests/unit/test_readme.py keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Routing(Enum):
    """Who receives what (tests/faults/lab.py holds the routing documents)."""

    STANDARD = "overall: webhook, bot, email; team search: its webhook; other teams: none"
    EVERY_TEAM = "every team's report through the overall route: webhook, bot, email"


@dataclass(frozen=True)
class Scenario:
    name: str
    injected: str  # the fault, in words
    expect_loud: bool  # the invocation the fault hits must fail (Lambda retries, DLQ, alarms)
    routing: Routing = Routing.STANDARD
    # Sends repeated in the documented at-least-once window (src/fwcost/delivery/ledger.py):
    # a webhook post or an email whose receipt could not be known or recorded is sent again.
    resends: int = 0


HOSTILE_NAMES = Scenario(
    "hostile-names",
    "team, project, environment, API key and model names with line breaks, `..`, `/`, control"
    " and bidi characters, Slack mentions, CSV formulas, 2,000 characters",
    expect_loud=False,
    routing=Routing.EVERY_TEAM,
)
NAMES_IN_FOLDER = Scenario(
    "dotdot-and-long-name-folder",
    "teams named `..` and a 2,000-character name, archive and ledger in a local folder",
    expect_loud=False,
    routing=Routing.EVERY_TEAM,
)
NAMES_IN_S3 = Scenario(
    "dotdot-and-long-name-s3",
    "teams named `..` and a 2,000-character name, archive and ledger in S3",
    expect_loud=False,
    routing=Routing.EVERY_TEAM,
)
THOUSAND_TEAMS = Scenario(
    "thousand-teams",
    "1,000 teams in one day (the team-report cap, 50 by default, bounds the deliveries)",
    expect_loud=False,
    routing=Routing.EVERY_TEAM,
)
TODAY = Scenario("today", 'a run for today, `{"date": <today>}`', expect_loud=True)
FUTURE_DATE = Scenario("future-date", "a run for a day next week", expect_loud=True)
MISSPELT_DRY_RUN = Scenario(
    "misspelt-dry-run", '`{"date": ..., "dryRun": true}` (the flag is `dry_run`)', expect_loud=True
)
EMPTY_TEAM_BUDGET = Scenario(
    "empty-team-budget", '`FWCOST_BUDGETS={"teams": {"": 100}}`', expect_loud=True
)
FIREWORKS_500 = Scenario(
    "fireworks-500", "Fireworks answers 500 to billingUsage past the client's retries", True
)
FIREWORKS_TRICKLE = Scenario(
    "fireworks-trickle", "billingUsage's body trickles in a byte every 20 ms", expect_loud=True
)
FIREWORKS_NAN = Scenario("fireworks-nan", "a line item's quantity is NaN", expect_loud=True)
FIREWORKS_HUGE = Scenario("fireworks-1e400", "a token count is 1e400", expect_loud=True)
FIREWORKS_NEGATIVE = Scenario(
    "fireworks-negative-tokens", "a token count is negative", expect_loud=True
)
FIREWORKS_EUR = Scenario("fireworks-eur", "a line item is billed in EUR", expect_loud=True)
ECHOED_KEY = Scenario(
    "fireworks-echoes-key",
    "Fireworks answers a 403 whose body echoes the request's headers, API key included",
    expect_loud=False,
)
SLACK_RETRY_AFTER = Scenario(
    "slack-retry-after", "Slack answers a webhook post 429 with Retry-After: 36000", True
)
SLACK_GARBAGE = Scenario(
    "slack-garbage", "Slack posts the bot message, then answers with bytes that are not HTTP", True
)
SLACK_CUT = Scenario(
    "slack-cut", "Slack posts the bot message, then cuts the answer off mid-body", True
)
WEBHOOK_CUT = Scenario(
    "webhook-cut",
    "Slack posts a webhook message, then cuts the answer off mid-body",
    expect_loud=True,
    resends=1,
)
SES_THROTTLED = Scenario(
    "ses-throttled", "SES throttles one email (TooManyRequests, after the SDK's retries)", True
)
SES_REJECTED = Scenario("ses-rejected", "SES rejects one email (MessageRejected)", True)
RECEIPT_WRITE_ONCE = Scenario(
    "receipt-write-fails-once",
    "S3 refuses one ledger receipt write, after the send (SlowDown)",
    expect_loud=False,
)
RECEIPT_ANSWER_LOST = Scenario(
    "receipt-answer-lost",
    "S3 writes a ledger receipt, then the connection closes before its answer",
    expect_loud=False,
)
CLAIMS_REFUSED = Scenario(
    "claims-refused",
    "S3 refuses every ledger claim of one invocation (SlowDown), before any send",
    expect_loud=True,
)
RECEIPTS_DOWN = Scenario(
    "receipts-refused-all-invocation",
    "S3 refuses every ledger receipt write of one invocation, after each send",
    expect_loud=True,
    resends=3,  # the overall and search webhooks and the email; the bot post is found again
)
DEADLINE = Scenario(
    "deadline", "59 s of the invocation left when delivery would start", expect_loud=True
)
DOUBLED_SCHEDULE = Scenario(
    "doubled-schedule", "the schedule invokes the function twice", expect_loud=False
)
CONCURRENT_RUNS = Scenario(
    "concurrent-runs",
    "the scheduled run and an operator's `fwcost run` of the same day, at the same moment",
    expect_loud=False,
)
FORCED_RERUN_RETRIED = Scenario(
    "forced-rerun-retried",
    "a forced re-run fails on one webhook, and Lambda retries the forced invocation",
    expect_loud=True,
)

SCENARIOS = (
    HOSTILE_NAMES,
    NAMES_IN_FOLDER,
    NAMES_IN_S3,
    THOUSAND_TEAMS,
    TODAY,
    FUTURE_DATE,
    MISSPELT_DRY_RUN,
    EMPTY_TEAM_BUDGET,
    FIREWORKS_500,
    FIREWORKS_TRICKLE,
    FIREWORKS_NAN,
    FIREWORKS_HUGE,
    FIREWORKS_NEGATIVE,
    FIREWORKS_EUR,
    ECHOED_KEY,
    SLACK_RETRY_AFTER,
    SLACK_GARBAGE,
    SLACK_CUT,
    WEBHOOK_CUT,
    SES_THROTTLED,
    SES_REJECTED,
    RECEIPT_WRITE_ONCE,
    RECEIPT_ANSWER_LOST,
    CLAIMS_REFUSED,
    RECEIPTS_DOWN,
    DEADLINE,
    DOUBLED_SCHEDULE,
    CONCURRENT_RUNS,
    FORCED_RERUN_RETRIED,
)
assert len({scenario.name for scenario in SCENARIOS}) == len(SCENARIOS), "names must differ"
