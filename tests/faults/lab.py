"""The fault lab: the deployed function (tests/deployed.py: the Lambda handler in-process, moto,
the Fireworks simulator and a fake Slack on loopback), ways to break each part of it, Lambda's
ways of invoking it again, and the measures every scenario is judged by.

Measures, once production's retries have run their course (FaultLab.conclude):
- lost: an (audience, destination) pair the routing sends the day's report to that never
  received it. Audiences are the reports the run archived as sent; what arrived is read where it
  arrived: webhook posts and chat.postMessage calls at the fake Slack (a post counts even when
  its answer was broken afterwards: Slack has it), emails in moto's SES.
- duplicates: a pair that received the day's report more often than intended: once, plus once
  per forced run for webhooks and emails (a forced run edits a bot post with chat.update, which
  is not a delivery). In a scenario whose fault opens the documented at-least-once window, the
  webhook and email resends go to `resent` instead (a bot post never may).
- secrets: every secret value (API key, bot token, webhook URLs and their secret parts) looked
  for in every version of every object in the bucket (or every file of the archive folder),
  every captured log line, every invocation's answer and error as Lambda would log them, and
  every Slack payload and email sent.
- loud: the invocation the fault hit raised, so Lambda retries it, then the DLQ and alarms fire.
"""

from __future__ import annotations

import email
import email.policy
import functools
import io
import json
import logging
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError
from botocore.handlers import BUILTIN_HANDLERS
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends
from moto.s3.responses import S3Response

from deployed import (
    BUCKET,
    DAY,
    FROM,
    ROUTING,
    WEBHOOK_PATHS,
    Deployment,
    deploy,
    sent_emails,
)
from fake_slack import FakeSlack
from faults.figures import FaultFigures, Measured
from faults.fireworks_proxy import FireworksProxy, serve_fireworks_proxy
from faults.scenarios import Routing, Scenario
from fwcost.simulator import SimulatorConfig, run_simulator

PREFIX = "fireworks"  # FWCOST_ARCHIVE_PREFIX's default
# What the schedule sends at 07:00 in Los Angeles on the 22nd: it reports DAY, the 21st.
SCHEDULED = {"scheduled_time": "2026-11-22T15:00:00Z"}
LAMBDA_RETRIES = 2  # an async invocation that fails is tried twice more, same request id
# A small account (teams search, ads, research, platform): the faults are not about volume.
SMALL_ACCOUNT = SimulatorConfig(keys=8, models=3)

ROUTINGS: dict[Routing, dict[str, Any]] = {
    Routing.STANDARD: ROUTING,
    Routing.EVERY_TEAM: {
        "version": 1,
        "routes": {
            "overall": {
                "slack": [
                    {"kind": "webhook", "secret_key": "overall_webhook"},
                    {"kind": "bot", "channel": "C0123ABCD", "secret_key": "bot_token"},
                ],
                "email": [{"from": FROM, "to": ["finops@acme.ai"], "attach_csv": True}],
            },
        },
        "unknown_teams": "overall",
    },
}


# ---- invocations -----------------------------------------------------------------------------


@dataclass
class Invocation:
    """One invocation of the handler and how it ended."""

    event: dict[str, Any]
    request_id: str
    result: dict[str, Any] | None = None
    error: BaseException | None = None
    seconds: float = 0.0  # how long it took

    @property
    def loud(self) -> bool:
        return self.error is not None

    @property
    def message(self) -> str:
        return "" if self.error is None else str(self.error)

    def as_logged(self) -> str:
        """What Lambda records of it: the answer, or the error with its stack trace."""
        if self.error is None:
            return json.dumps(self.result, ensure_ascii=False)
        return "".join(traceback.format_exception(self.error))


# ---- what arrived where ------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """A report that reached a destination (or, `edit`, an edit of one already there)."""

    audience: str  # the ledger's audience segment: audience=overall or team=<name segment>
    destination: str  # webhook:<secret key>, bot:<channel>, email:<recipients>
    edit: bool = False


def route_destinations(route: Mapping[str, Any]) -> list[str]:
    """The destinations of one route of a routing document, labelled as Arrival labels them."""
    labels = []
    for slack in route.get("slack", []):
        if slack["kind"] == "webhook":
            labels.append(f"webhook:{slack['secret_key']}")
        else:
            labels.append(f"bot:{slack['channel']}")
    for mail in route.get("email", []):
        labels.append("email:" + ",".join(sorted([*mail["to"], *mail.get("cc", [])])))
    return labels


def routed(routing: Mapping[str, Any], audience: str) -> list[str]:
    """The destinations `routing` sends `audience`'s report to (read from the document as a
    person would, not by the product's parser)."""
    routes = routing["routes"]
    if audience == "audience=overall":
        return route_destinations(routes["overall"])
    # A segment is the percent-encoded name (a cut one never names a routed team).
    team = unquote(audience.removeprefix("team="))
    if team in routes.get("teams", {}):
        return route_destinations(routes["teams"][team])
    if routing.get("unknown_teams", "overall") == "overall":
        return route_destinations(routes["overall"])
    return []


@dataclass(frozen=True)
class Tally:
    """Arrivals held against the (audience, destination) pairs expected to get the report."""

    lost: list[tuple[str, str]]
    duplicates: list[tuple[str, str, int]]  # (audience, destination, extra sends)
    resent: list[tuple[str, str, int]]
    strays: list[Arrival]  # arrived where the routing sends nothing

    @classmethod
    def of(
        cls,
        expected: set[tuple[str, str]],
        arrivals: list[Arrival],
        *,
        forced_runs: int,
        window: bool,
    ) -> Tally:
        sends = Counter((a.audience, a.destination) for a in arrivals if not a.edit)
        duplicates, resent = [], []
        for (audience, destination), count in sorted(sends.items()):
            bot = destination.startswith("bot:")
            extra = count - (1 if bot else 1 + forced_runs)
            if extra <= 0:
                continue
            into = resent if window and not bot else duplicates
            into.append((audience, destination, extra))
        return cls(
            lost=sorted(expected - set(sends)),
            duplicates=duplicates,
            resent=resent,
            strays=[a for a in arrivals if (a.audience, a.destination) not in expected],
        )


# ---- faults into AWS calls ---------------------------------------------------------------------


@dataclass
class AwsFault:
    """Raise `error()` from the AWS call `operation` ("s3.PutObject") when `when(request)`
    holds, `times` times (None: until cleared). Raised before the request is sent, so it stands
    for a failure the SDK's own retries did not get past; or, `answer_lost`, after AWS did what
    was asked, so the caller cannot tell whether it did."""

    operation: str
    error: Callable[[], Exception]
    when: Callable[[dict[str, Any]], bool] = lambda request: True
    times: int | None = None
    answer_lost: bool = False
    fired: int = 0


class AwsFaults:
    """botocore `before-call` and `after-call` hooks on every client created while they are
    installed (the run makes its own clients: botocore's built-in handlers reach them all)."""

    def __init__(self) -> None:
        self._faults: list[AwsFault] = []
        self._lock = threading.Lock()
        self._answer_to_lose = threading.local()  # the fault of the call in flight, if any

    def inject(self, fault: AwsFault) -> AwsFault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def before_call(self, event_name: str, params: dict[str, Any], **kwargs: Any) -> None:
        operation = event_name.removeprefix("before-call.")
        with self._lock:
            fault = next(
                (
                    f for f in self._faults
                    if f.operation == operation
                    and (f.times is None or f.fired < f.times)
                    and f.when(params)
                ),
                None,
            )  # fmt: skip
            if fault is None:
                return
            fault.fired += 1
        if fault.answer_lost:
            self._answer_to_lose.fault = fault
            return
        raise fault.error()

    def after_call(self, **kwargs: Any) -> None:
        fault = getattr(self._answer_to_lose, "fault", None)
        if fault is not None:
            self._answer_to_lose.fault = None
            raise fault.error()


def aws_error(operation: str, code: str, message: str, status: int) -> Callable[[], Exception]:
    """What botocore raises when AWS answers `status` with `code` to `operation`."""
    answer: Any = {"Error": {"Code": code, "Message": message}}
    answer["ResponseMetadata"] = {"HTTPStatusCode": status}
    return lambda: ClientError(answer, operation)


def _ledger_write_of(state: str) -> Callable[[dict[str, Any]], bool]:
    def writes(request: dict[str, Any]) -> bool:
        body = request.get("body") or b""
        content = body.getvalue() if isinstance(body, io.BytesIO) else bytes(body)
        return "/ledger/" in request["url_path"] and f'"state": "{state}"'.encode() in content

    return writes


is_claim_write = _ledger_write_of("claimed")  # a PutObject claiming a delivery, before its send
is_receipt_write = _ledger_write_of("delivered")  # completing a claim with the receipt


@contextmanager
def aws_fault_hook() -> Iterator[AwsFaults]:
    faults = AwsFaults()
    entries = [("before-call", faults.before_call), ("after-call", faults.after_call)]
    BUILTIN_HANDLERS.extend(entries)
    try:
        yield faults
    finally:
        for entry in entries:
            BUILTIN_HANDLERS.remove(entry)


def serialise_s3_puts(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 decides a conditional write (If-None-Match, If-Match) atomically; moto checks, then
    writes. Two runs in threads need S3's behaviour, so moto's PutObject is made one at a time."""
    lock = threading.Lock()
    put_object = S3Response.put_object

    def atomic(self: S3Response) -> Any:
        with lock:
            return put_object(self)

    monkeypatch.setattr(S3Response, "put_object", atomic)


# ---- the lab -----------------------------------------------------------------------------------


@dataclass
class FaultLab:
    """One scenario's deployment, its invocations, and its measures."""

    stack: ExitStack
    monkeypatch: pytest.MonkeyPatch
    tmp_path: Path
    slack: FakeSlack
    aws: AwsFaults
    slack_sleeps: list[float]
    log: io.StringIO
    caplog: pytest.LogCaptureFixture
    capsys: pytest.CaptureFixture[str]
    figures: FaultFigures
    context: Any  # tests/lambda_context.py's LambdaContext: each invocation gets a copy
    invocations: list[Invocation] = field(default_factory=list)
    scenario: Scenario | None = None
    deployment: Deployment | None = None
    archive_dir: Path | None = None
    captured: str = ""  # stdout and stderr read so far
    measured: Measured | None = None

    def deploy(
        self,
        scenario: Scenario,
        *,
        simulator: SimulatorConfig = SMALL_ACCOUNT,
        api_key: str | None = None,
        archive_in_folder: bool = False,
        environment: Mapping[str, str | None] = {},
    ) -> Deployment:
        """Deploy the function for `scenario` (its routing), archive in S3 or a folder."""
        self.scenario = scenario
        where: dict[str, str | None] = {}
        if archive_in_folder:
            self.archive_dir = self.tmp_path / "archive"
            where = {"FWCOST_ARCHIVE_DIR": str(self.archive_dir), "FWCOST_ARCHIVE_BUCKET": None}
        self.deployment = self.stack.enter_context(
            deploy(
                self.monkeypatch,
                self.slack,
                simulator=simulator,
                routing=ROUTINGS[scenario.routing],
                api_key=api_key,
                environment={**where, **environment},
            )
        )
        return self.deployment

    @property
    def deployed(self) -> Deployment:
        assert self.deployment is not None, "deploy() first"
        return self.deployment

    # -- invoking, as production does --

    def invoke(
        self,
        event: Mapping[str, Any] | None = None,
        *,
        retry_of: Invocation | None = None,
        seconds_left: float = 900,  # a fresh invocation: template.yaml's Timeout
    ) -> Invocation:
        """One invocation (the schedule's event unless told); never raises: its error is kept."""
        from app import lambda_handler

        invocation = Invocation(
            dict(SCHEDULED if event is None else event),
            retry_of.request_id if retry_of else str(uuid.uuid4()),
        )
        context = replace(
            self.context,
            aws_request_id=invocation.request_id,
            remaining_millis=int(seconds_left * 1000),
        )
        started = time.monotonic()
        try:
            invocation.result = dict(lambda_handler(invocation.event, context))
        except Exception as error:
            invocation.error = error
        invocation.seconds = time.monotonic() - started
        self.invocations.append(invocation)
        return invocation

    def retry(self, invocation: Invocation) -> Invocation:
        """Lambda's retry of a failed async invocation: the same event and request id."""
        return self.invoke(invocation.event, retry_of=invocation)

    def lambda_retries(self, invocation: Invocation) -> Invocation:
        """Lambda's two retries of a failed invocation, as long as it keeps failing."""
        for _ in range(LAMBDA_RETRIES):
            if not invocation.loud:
                break
            invocation = self.retry(invocation)
        return invocation

    def at_the_same_time(self, *calls: Callable[[], Any]) -> list[Any]:
        """What each of `calls` returns, all started at the same moment, each in its thread."""
        start = threading.Barrier(len(calls))
        done: dict[int, Any] = {}

        def run(number: int, call: Callable[[], Any]) -> None:
            start.wait()
            done[number] = call()

        threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [done[number] for number in range(len(calls))]

    def cli(self, *arguments: str) -> int:
        """`fwcost ARGUMENTS` with the function's settings (an operator's run); its exit status."""
        from fwcost.cli import main

        return main(["--verbose", *arguments])  # the JSON log lines, as the function's

    # -- faults that are not AWS calls --

    def fireworks_proxy(self) -> FireworksProxy:
        """Put a proxy between the function and the simulator (trickle, tamper)."""
        proxy = self.stack.enter_context(serve_fireworks_proxy(self.deployed.simulator.base_url))
        self.monkeypatch.setenv("FWCOST_FIREWORKS_BASE_URL", proxy.base_url)
        return proxy

    def fireworks_becomes(self, config: SimulatorConfig) -> None:
        """From now on the function asks a simulator of `config` (the account has changed)."""
        simulator = self.stack.enter_context(run_simulator(config))
        self.monkeypatch.setenv("FWCOST_FIREWORKS_BASE_URL", simulator.base_url)

    def fireworks_time_runs_fast(self, factor: float = 100) -> None:
        """The Fireworks client's clock and waits run `factor` times faster than real time: its
        retry policy (60 s an attempt, 90 s of retries) stays as shipped, a test takes seconds."""
        import fwcost.wiring

        started = time.monotonic()

        def clock() -> float:
            return started + (time.monotonic() - started) * factor

        def sleep(seconds: float) -> None:
            time.sleep(seconds / factor)

        client = functools.partial(fwcost.wiring.FireworksClient, clock=clock, sleep=sleep)
        self.monkeypatch.setattr(fwcost.wiring, "FireworksClient", client)

    def clock_at(self, instant: datetime) -> None:
        """The handler's clock (which decides whether a day is complete) reads `instant`."""
        import app

        class Frozen(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Any:
                return instant.astimezone(tz)

        self.monkeypatch.setattr(app, "datetime", Frozen)

    # -- what happened --

    def archived(self) -> dict[str, list[bytes]]:
        """Every object of the archive (ledger included): each S3 version, or the folder's file."""
        if self.archive_dir is not None:
            return {
                path.relative_to(self.archive_dir).as_posix(): [path.read_bytes()]
                for path in self.archive_dir.rglob("*")
                if path.is_file()
            }
        bucket = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets[BUCKET]
        return {
            key: [
                version.value for version in bucket.keys.getlist(key) if hasattr(version, "value")
            ]
            for key in bucket.keys
        }

    def report_folder(self, day: str = DAY) -> str:
        return f"{PREFIX}/account={self.deployed.simulator.config.account_id}/dt={day}/report/"

    def audiences(self, day: str = DAY) -> set[str]:
        """The audiences of the reports the run archived as sent for `day`."""
        folder = self.report_folder(day)
        found = set()
        for key in self.archived():
            if key == folder + "slack.json":
                found.add("audience=overall")
            elif key.startswith(folder + "teams/") and key.endswith("/slack.json"):
                found.add("team=" + key.removeprefix(folder + "teams/").split("/")[0])
        return found

    def arrivals(self, day: str = DAY) -> list[Arrival]:
        """Every report that reached Slack or SES for `day`, in order."""
        return self._slack_arrivals(day) + self._email_arrivals(day)

    def _slack_arrivals(self, day: str) -> list[Arrival]:
        # A webhook payload is the report's slack.json as archived (each version of it).
        folder, by_payload = self.report_folder(day), {}
        for key, versions in self.archived().items():
            if key.startswith(folder) and key.endswith("slack.json"):
                relative = key.removeprefix(folder)
                audience = (
                    "audience=overall"
                    if relative == "slack.json"
                    else "team=" + relative.split("/")[1]
                )
                for body in versions:
                    by_payload[_canonical(json.loads(body))] = audience
        webhooks = {path: key for key, path in WEBHOOK_PATHS.items()}
        arrived = []
        for request in self.slack.delivered():
            if request.path in webhooks:
                audience = by_payload.get(_canonical(request.body), "unknown payload")
                arrived.append(Arrival(audience, f"webhook:{webhooks[request.path]}"))
            elif request.path in {"/api/chat.postMessage", "/api/chat.update"}:
                payload = (request.body.get("metadata") or {}).get("event_payload", {})
                audience = payload["audience"] if payload.get("day") == day else "another day's"
                edit = request.path == "/api/chat.update"
                arrived.append(Arrival(audience, f"bot:{request.body['channel']}", edit))
        return arrived

    def _email_arrivals(self, day: str) -> list[Arrival]:
        # The attached CSV is named after the audience: fwcost-<account>-<day>[-<segment>].csv
        stem = f"fwcost-{self.deployed.simulator.config.account_id}-{day}"
        arrived = []
        for sent in sent_emails():
            message = email.message_from_string(sent.raw_data, policy=email.policy.default)
            names = [part.get_filename() for part in message.walk() if part.get_filename()]
            audience = "an unknown email"  # a stray: every route here attaches the CSV
            if names and names[0].startswith(stem):
                segment = names[0].removeprefix(stem).removesuffix(".csv")
                audience = "team=" + segment[1:] if segment else "audience=overall"
            recipients = [
                address.addr_spec
                for header in ("To", "Cc")
                for address in (message[header].addresses if message[header] else ())
            ]
            arrived.append(Arrival(audience, "email:" + ",".join(sorted(recipients))))
        return arrived

    def expected(self, day: str = DAY) -> set[tuple[str, str]]:
        routing = self.deployed.routing
        return {
            (audience, destination)
            for audience in self.audiences(day)
            for destination in routed(routing, audience)
        }

    def output(self) -> str:
        """Everything written to stdout and stderr so far (EMF metrics, the CLI's lines)."""
        self.captured += "".join(self.capsys.readouterr())
        return self.captured

    def secrets_found(self) -> list[str]:
        """Where a secret value was found: "<which secret> in <where>"."""
        places: dict[str, str] = {
            "the app's log": self.log.getvalue(),
            "other loggers": self.caplog.text,
            "stdout and stderr": self.output(),
        }
        for number, invocation in enumerate(self.invocations, 1):
            places[f"invocation {number}'s answer or error"] = invocation.as_logged()
        for key, versions in self.archived().items():
            for version, body in enumerate(versions, 1):
                places[f"{key} (version {version})"] = body.decode("utf-8", "replace")
        for number, request in enumerate(self.slack.requests, 1):
            places[f"Slack request {number} ({request.path})"] = json.dumps(
                request.body, ensure_ascii=False
            )
        for number, sent in enumerate(sent_emails(), 1):
            places[f"email {number}"] = sent.raw_data
        return [
            f"{secret[:12]}... in {place}"
            for secret in self.deployed.secrets
            for place, text in places.items()
            if secret in text
        ]

    def conclude(self, faulted: Invocation, *, day: str = DAY, forced_runs: int = 0) -> Measured:
        """Measure the scenario once production has done what it does next, record the figures
        for the session's summary, and assert they are as the scenario intends."""
        assert self.scenario is not None
        arrivals = self.arrivals(day)
        tally = Tally.of(
            self.expected(day),
            arrivals,
            forced_runs=forced_runs,
            window=self.scenario.resends > 0,
        )
        secrets = self.secrets_found()
        measured = Measured(
            self.scenario,
            loud=faulted.loud,
            lost=len(tally.lost),
            duplicates=sum(extra for *_, extra in tally.duplicates),
            secrets=len(secrets),
            resent=sum(extra for *_, extra in tally.resent),
        )
        self.figures.results.append(measured)
        self.measured = measured
        assert self.expected(day), "the run archived no report to deliver"
        assert not tally.strays, f"reports sent where the routing sends none: {tally.strays}"
        assert measured == Measured.as_intended(self.scenario), (
            f"lost {tally.lost}, duplicates {tally.duplicates}, resent {tally.resent},"
            f" secrets {secrets}, first error: {faulted.message[:300]!r}"
        )
        return measured


def _canonical(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


@contextmanager
def app_log_lines() -> Iterator[io.StringIO]:
    """Every line the app's Powertools logger writes, as Lambda would ship it."""
    from fwcost.observability import logger

    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logger.registered_formatter)
    app = logging.getLogger("fwcost")
    # At the level the function starts with (POWERTOOLS_LOG_LEVEL, INFO): a CLI test run earlier
    # in this process quietens the shared logger to WARNING, as `fwcost` does on a terminal.
    level = app.level
    app.setLevel(logging.INFO)
    app.addHandler(handler)
    try:
        yield lines
    finally:
        app.removeHandler(handler)
        app.setLevel(level)
