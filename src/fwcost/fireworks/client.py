"""The Fireworks billing client: one window of days, every endpoint asked at once.

`fetch_window` sends its requests concurrently over one shared httpx.Client, retries what a
retry can fix (429, 5xx, timeouts, dropped connections, a garbled 200) with exponential
backoff and full jitter inside a bounded budget, and turns refusals into FireworksHTTPError
with a hint a person can act on. A refused usageCosts:query or billing/summary degrades the
report (with a gap saying why) instead of failing it; a bad key or unknown account fails it.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import httpx

from fwcost import __version__
from fwcost.dates import MAX_WINDOW_DAYS, days_between, local_midnight, rfc3339
from fwcost.fireworks.errors import (
    Failure,
    FireworksError,
    FireworksGaveUp,
    FireworksHTTPError,
    fireworks_message,
    redact,
    refusal_for,
)
from fwcost.fireworks.parse import (
    MalformedBodyError,
    ReportWindow,
    decode_json,
    parse_period_summary,
    parse_summary,
    parse_usage_costs,
)
from fwcost.fireworks.usage_stream import Usage, decode_usage
from fwcost.model import (
    DayUsage,
    DedicatedUsage,
    KeyCost,
    LineItem,
    RawResponse,
    ServerlessUsage,
    WindowPull,
)

DEFAULT_BASE_URL = "https://api.fireworks.ai"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
MAX_COST_PAGES = 1000  # a server repeating nextPageToken must not loop us forever
# billingUsage is asked once, with usageType omitted (= every stream) and the union of each
# stream's finest dimensions: the reference says a dimension that does not apply to a stream is
# ignored on it, so each stream comes back at its finest grouping from one request.
ANNOTATION_DIMENSIONS = ("annotations.team", "annotations.project", "annotations.environment")
SERVERLESS_DIMENSIONS = ("model_name", "api_key_id", "api_key_name")
DEDICATED_DIMENSIONS = ("deployment_name", "accelerator_type")  # accelerator_type: training too
TRAINING_ONLY_DIMENSIONS = ("job_id", "job_type", "usage_type", "base_model")
USAGE_GROUP_BY = (
    *SERVERLESS_DIMENSIONS,
    *DEDICATED_DIMENSIONS,
    *TRAINING_ONLY_DIMENSIONS,
    *ANNOTATION_DIMENSIONS,
)
# Failures of the transport that a second try can fix; anything else (a bad URL scheme, a
# local protocol error) is a bug on our side and fails at once.
RETRYABLE_TRANSPORT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# No connection at all (DNS, refused, nothing answering the connect) versus a slow answer.
UNREACHABLE_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout)
KEY_COSTS_REFUSED = (
    "usageCosts:query refused ({status}): this API key is not an account admin, so per-key "
    "dollars are estimated from usage; use an account admin key to get Fireworks' own per-key "
    "costs. Fireworks said: {message}"
)
KEY_COSTS_REJECTED = (
    "usageCosts:query rejected the request ({status}), so per-key dollars are estimated from "
    "usage. Fireworks said: {message}"
)
SUMMARY_REFUSED = (
    "billing/summary refused ({status}): this API key cannot read billing data, so there is no "
    "billed total to check the day against; use a key that may read billing. "
    "Fireworks said: {message}"
)
ATTRIBUTION_INCOMPLETE = (
    "usageCosts:query says cost attribution is still INCOMPLETE for this window (late data): "
    "per-key dollars may still change"
)


def normalize_account_id(account: str) -> str:
    """The bare account id the paths take: 'accounts/acme-ai' and 'acme-ai' both give 'acme-ai'."""
    bare = account.strip().removeprefix("accounts/")
    if not bare:
        raise ValueError(f"account id must not be empty (got {account!r})")
    if "/" in bare or any(character.isspace() for character in bare):
        raise ValueError(
            f"account id must be a bare id like 'my-account' or 'accounts/my-account', "
            f"got {account!r}"
        )
    return bare


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one request.

    At most max_attempts, and no retry that would start after max_total_seconds since the first
    attempt (so the worst case is that plus one attempt). An attempt connects within 5 s, waits
    at most 60 s for each read (DEFAULT_TIMEOUT) and ends after attempt_seconds in all, however
    the body trickles in: the clock is checked as each piece arrives, so an attempt lasts at
    most attempt_seconds plus one read timeout. Each page of usageCosts:query is its own request
    with its own budget.
    """

    max_attempts: int = 6
    max_total_seconds: float = 90.0
    # A 31-day billingUsage answer of a large account is megabytes, seconds on any network:
    # a minute is generous, and a server trickling bytes can hold an attempt no longer.
    attempt_seconds: float = 60.0
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 20.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if min(self.max_total_seconds, self.base_delay_seconds, self.attempt_seconds) <= 0:
            raise ValueError(
                "max_total_seconds, base_delay_seconds and attempt_seconds must be positive"
            )

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base·2^(retry-1))], retry counted from 1."""
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (retry - 1))
        return rng.uniform(0, ceiling)


@dataclass(frozen=True, slots=True)
class RequestStats:
    """HTTP attempts made by one client: for metrics and the benchmark."""

    requests: int
    retries: int
    by_endpoint: dict[str, int]


@dataclass(frozen=True, slots=True)
class _Request:
    name: str  # the RawResponse name
    endpoint: str  # the stats label, e.g. "billingUsage"
    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class _Miss:
    """Why one attempt failed in a way another try might fix."""

    cause: str
    failure: Failure
    retry_after: float | None = None


_Decoded = TypeVar("_Decoded")


@dataclass(frozen=True, slots=True)
class _Answer(Generic[_Decoded]):
    raw: RawResponse
    document: _Decoded


@dataclass(frozen=True, slots=True)
class _KeyCosts:
    raw: list[RawResponse]
    rows: list[KeyCost] | None  # None when usageCosts:query was refused
    gaps: list[str]


@dataclass(frozen=True, slots=True)
class _Usage:
    raw: list[RawResponse]
    rows: list[Usage]
    training_offered: bool = True  # False: the training dimensions were refused (400)


@dataclass(frozen=True, slots=True)
class _Summary:
    raw: RawResponse
    items: list[LineItem]
    gap: str | None = None  # set when there is no billed total per day (refused, undated)


@dataclass(frozen=True, slots=True)
class PeriodBill:
    """The rated line items of a whole period (before credits, discounts and taxes)."""

    items: list[LineItem]
    raw: RawResponse
    refused: str = ""  # why there is no bill (the API key may not read billing)


class _AttemptTooLong(Exception):
    """An attempt passed RetryPolicy.attempt_seconds (a body trickling in): retried."""


class FireworksClient:
    """Pulls billingUsage, billing/summary and usageCosts:query for one window of days."""

    def __init__(
        self,
        *,
        api_key: str,
        account_id: str,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not api_key:
            raise ValueError("the Fireworks API key is empty")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        self._api_key = api_key
        self.account_id = normalize_account_id(account_id)
        self.base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client()
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._clock = clock
        self._lock = threading.Lock()
        self._requests = 0
        self._retries = 0
        self._by_endpoint: dict[str, int] = {}

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> FireworksClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stats(self) -> RequestStats:
        with self._lock:
            return RequestStats(self._requests, self._retries, dict(self._by_endpoint))

    def fetch_window(self, start: date, end: date, tz: ZoneInfo) -> WindowPull:
        """Everything Fireworks says about the inclusive local dates start..end, in `tz`."""
        window = _checked_window(start, end, tz)
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="fireworks") as pool:
            usage_future = pool.submit(self._fetch_usage, window)
            summary_future = pool.submit(self._fetch_summary, window)
            key_costs_future = pool.submit(self._fetch_key_costs, window)
            # result() in submission order: the first failure raised is deterministic.
            usage = usage_future.result()
            summary = summary_future.result()
            key_costs = key_costs_future.result()
        days = {day: DayUsage(day) for day in days_between(start, end)}
        _add_usage(days, usage.rows)
        _add_summary(days, summary)
        _add_key_costs(days, key_costs)
        return WindowPull(
            start=start,
            end=end,
            raw=[*usage.raw, summary.raw, *key_costs.raw],
            days=days,
            training_offered=usage.training_offered,
        )

    def fetch_period_bill(self, start: date, end: date, tz: ZoneInfo) -> PeriodBill:
        """billing/summary over a whole period (a month: one request, whatever its length), for
        a statement's reconciliation. A refusal (403) is a bill with `refused` said, not an error:
        the statement then says it could not be reconciled."""
        request = _Request(
            name="billing-summary",
            endpoint="billing/summary",
            method="GET",
            path=self._path("billing/summary"),
            params=(
                ("startTime", f"{start.isoformat()}T00:00:00Z"),
                ("endTime", f"{(end + timedelta(days=1)).isoformat()}T00:00:00Z"),
                ("timezone", _zone_name(tz)),
            ),
        )
        try:
            answer = self._send(request, decode_json)
        except FireworksHTTPError as error:
            if error.status == 403 and error.raw is not None:
                refusal = SUMMARY_REFUSED.format(status=error.status, message=error.message)
                return PeriodBill([], error.raw, refusal)
            raise
        return PeriodBill(parse_period_summary(answer.document, start, request.name), answer.raw)

    def _fetch_usage(self, window: ReportWindow) -> _Usage:
        """Every billingUsage stream in one request; without training where it is refused."""
        try:
            request = self._usage_request(window, USAGE_GROUP_BY, "billingUsage")
            answer = self._send(request, _usage_decoder(window, request.name))
        except FireworksHTTPError as first:
            if first.status != 400 or first.raw is None:
                raise
            # An older gateway may not know the training dimensions: ask once more without
            # them. If that is refused too, the error raised names what was sent.
            inference_only = tuple(d for d in USAGE_GROUP_BY if d not in TRAINING_ONLY_DIMENSIONS)
            request = self._usage_request(window, inference_only, "billingUsage-without-training")
            answer = self._send(request, _usage_decoder(window, request.name))
            return _Usage([first.raw, answer.raw], answer.document, training_offered=False)
        return _Usage([answer.raw], answer.document)

    def _usage_request(
        self, window: ReportWindow, group_by: tuple[str, ...], name: str
    ) -> _Request:
        params = [
            ("startTime", rfc3339(local_midnight(window.start, window.tz))),
            ("endTime", rfc3339(local_midnight(window.end + timedelta(days=1), window.tz))),
            ("timezone", _zone_name(window.tz)),
        ] + [("groupBy", dimension) for dimension in group_by]
        return _Request(
            name=name,
            endpoint="billingUsage",
            method="GET",
            path=self._path("billingUsage"),
            params=tuple(params),
        )

    def _fetch_summary(self, window: ReportWindow) -> _Summary:
        # Only the date part counts and the end date is excluded, so plain UTC-midnight dates.
        params = (
            ("startTime", f"{window.start.isoformat()}T00:00:00Z"),
            ("endTime", f"{(window.end + timedelta(days=1)).isoformat()}T00:00:00Z"),
            ("granularity", "DAILY"),
            ("timezone", _zone_name(window.tz)),
        )
        request = _Request(
            name="billing-summary",
            endpoint="billing/summary",
            method="GET",
            path=self._path("billing/summary"),
            params=params,
        )
        try:
            answer = self._send(request, decode_json)
        except FireworksHTTPError as error:
            if error.status == 403 and error.raw is not None:
                refusal = SUMMARY_REFUSED.format(status=error.status, message=error.message)
                return _Summary(error.raw, [], refusal)
            raise
        lines = parse_summary(answer.document, window, request.name)
        return _Summary(answer.raw, lines.items, lines.gap)

    def _fetch_key_costs(self, window: ReportWindow) -> _KeyCosts:
        query: dict[str, Any] = {
            "startTime": rfc3339(local_midnight(window.start, window.tz)),
            "endTime": rfc3339(local_midnight(window.end + timedelta(days=1), window.tz)),
            "scope": "ACCOUNT",
            "groupBy": ["DAY", "API_KEY"],
            "pageSize": 1000,
        }
        raw: list[RawResponse] = []
        rows: list[KeyCost] = []
        seen_tokens: set[str] = set()
        for page in range(1, MAX_COST_PAGES + 1):
            request = _Request(
                name=f"usageCosts-page-{page:03d}",
                endpoint="usageCosts:query",
                method="POST",
                path=self._path("usageCosts:query"),
                body=json.dumps(query, separators=(",", ":")).encode(),
            )
            try:
                answer = self._send(request, decode_json)
            except FireworksHTTPError as error:
                if error.status not in (400, 403) or error.raw is None:
                    raise
                # The run goes on without Fireworks' per-key dollars, and says why.
                template = KEY_COSTS_REFUSED if error.status == 403 else KEY_COSTS_REJECTED
                gap = template.format(status=error.status, message=error.message)
                return _KeyCosts([*raw, error.raw], None, [gap])
            raw.append(answer.raw)
            parsed = parse_usage_costs(answer.document, window, request.name)
            rows.extend(parsed.rows)
            token = parsed.next_page_token
            if not token:
                incomplete = parsed.attribution_completeness == "INCOMPLETE"
                return _KeyCosts(raw, rows, [ATTRIBUTION_INCOMPLETE] if incomplete else [])
            if token in seen_tokens:
                raise self._failure(
                    f"POST {request.path} returned page token {token!r} twice: "
                    "stopping instead of looping"
                )
            seen_tokens.add(token)
            query["pageToken"] = token
        raise self._failure(
            f"POST {self._path('usageCosts:query')} still had more pages after {MAX_COST_PAGES}: "
            "stopping instead of looping"
        )

    def _path(self, resource: str) -> str:
        return f"/v1/accounts/{quote(self.account_id, safe='')}/{resource}"

    def _send(self, request: _Request, decode: Callable[[bytes], _Decoded]) -> _Answer[_Decoded]:
        """One request with retries; returns a 2xx JSON answer, decoded, or raises
        FireworksError (a malformed body is retried; a wrong field is not)."""
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            self._count(request.endpoint, is_retry=attempt > 1)
            sent_at = self._clock()
            try:
                response, body = self._attempt(request, sent_at)
            except RETRYABLE_TRANSPORT_ERRORS as error:
                miss = _Miss(f"{type(error).__name__}: {error}", _transport_failure(error))
            except _AttemptTooLong as error:
                miss = _Miss(str(error), Failure.TIMEOUT)
            except httpx.HTTPError as error:
                raise self._failure(
                    f"{request.method} {request.path}: could not send the request "
                    f"({type(error).__name__}: {error})"
                ) from None
            else:
                raw = self._raw(request, response, body, attempt, self._clock() - sent_at)
                if response.is_success:
                    try:
                        return _Answer(raw, decode(body))
                    except MalformedBodyError as error:
                        miss = _Miss(
                            f"{response.status_code} with a malformed body: {error}",
                            Failure.FAILING,
                        )
                elif response.status_code in self._retry.retry_statuses:
                    miss = _Miss(
                        f"{response.status_code}: {fireworks_message(body)}",
                        Failure.FAILING,
                        _retry_after_seconds(response.headers.get("Retry-After")),
                    )
                else:
                    raise self._http_error(request, raw) from None
            self._sleep(self._delay_before_retry(request, attempt, started, miss))

    def _attempt(self, request: _Request, started: float) -> tuple[httpx.Response, bytes]:
        """One exchange: the response and its whole body, read within attempt_seconds."""
        deadline = self._retry.attempt_seconds
        with self._http.stream(
            request.method,
            self.base_url + request.path,
            params=list(request.params),
            content=request.body or None,
            headers=self._headers(request),
            timeout=self._timeout,
        ) as response:
            pieces = []
            for piece in response.iter_bytes():
                pieces.append(piece)
                if self._clock() - started > deadline:
                    received = sum(len(p) for p in pieces)
                    raise _AttemptTooLong(
                        f"the response was still arriving after {deadline:g} s "
                        f"({received:,} bytes so far)"
                    )
        return response, b"".join(pieces)

    def _delay_before_retry(
        self, request: _Request, attempt: int, started: float, miss: _Miss
    ) -> float:
        """How long to wait before the next attempt, or the error that ends the tries."""
        what = f"{request.method} {request.path}"
        tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
        if attempt >= self._retry.max_attempts:
            raise self._gave_up(f"{what} failed after {tries}; last cause: {miss.cause}", miss)
        budget = self._retry.max_total_seconds
        remaining = budget - (self._clock() - started)
        retry_after = miss.retry_after
        delay = retry_after if retry_after is not None else self._retry.backoff(attempt, self._rng)
        if delay > remaining:
            asked = "Fireworks asked to retry after" if retry_after is not None else "next retry in"
            raise self._gave_up(
                f"{what} gave up after {tries}: {asked} {delay:.1f} s, but only "
                f"{max(remaining, 0):.1f} s of the {budget:g} s retry budget remain; "
                f"last cause: {miss.cause}",
                miss,
            )
        return delay

    def _headers(self, request: _Request) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json",
            "User-Agent": f"fwcost/{__version__}",
        }
        if request.body:
            headers["Content-Type"] = "application/json"
        return headers

    def _raw(
        self,
        request: _Request,
        response: httpx.Response,
        body: bytes,
        attempts: int,
        elapsed: float,
    ) -> RawResponse:
        return RawResponse(
            name=request.name,
            method=request.method,
            path=request.path,
            params=request.params,
            request_body=request.body,
            status=response.status_code,
            body=body,
            fetched_at=datetime.now(UTC),
            elapsed_seconds=elapsed,
            attempts=attempts,
        )

    def _http_error(self, request: _Request, raw: RawResponse) -> FireworksHTTPError:
        sent = f"{request.method} {request.path}"
        if request.params:
            sent += f"?{urlencode(request.params)}"
        if request.body:
            sent += f" with body {request.body.decode()}"
        return FireworksHTTPError(
            status=raw.status,
            method=request.method,
            endpoint=request.path,
            message=redact(fireworks_message(raw.body), self._api_key),
            refusal=refusal_for(raw.status, redact(sent, self._api_key)),
            raw=raw,
        )

    def _failure(self, message: str) -> FireworksError:
        return FireworksError(redact(message, self._api_key))

    def _gave_up(self, message: str, miss: _Miss) -> FireworksGaveUp:
        return FireworksGaveUp(
            redact(message, self._api_key), last_failure=miss.failure, base_url=self.base_url
        )

    def _count(self, endpoint: str, *, is_retry: bool) -> None:
        with self._lock:
            self._requests += 1
            self._retries += is_retry
            self._by_endpoint[endpoint] = self._by_endpoint.get(endpoint, 0) + 1


def _transport_failure(error: Exception) -> Failure:
    if isinstance(error, UNREACHABLE_ERRORS):
        return Failure.UNREACHABLE
    if isinstance(error, httpx.TimeoutException):
        return Failure.TIMEOUT
    return Failure.FAILING


def _checked_window(start: date, end: date, tz: ZoneInfo) -> ReportWindow:
    if end < start:
        raise ValueError(f"window end {end} is before its start {start}")
    if (end - start).days >= MAX_WINDOW_DAYS:
        raise ValueError(
            f"window {start}..{end} spans more than {MAX_WINDOW_DAYS} days, the API's limit; "
            "cut it with fwcost.dates.windows"
        )
    return ReportWindow(start, end, tz)


def _zone_name(tz: ZoneInfo) -> str:
    return tz.key if tz.key else str(tz)


def _retry_after_seconds(header: str | None) -> float | None:
    """Retry-After as seconds or an HTTP-date; None when absent or unreadable."""
    if not header:
        return None
    text = header.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):  # RFC 9110 says whole seconds; a fraction is harmless
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _usage_decoder(window: ReportWindow, name: str) -> Callable[[bytes], list[Usage]]:
    """billingUsage is decoded row by row into its typed rows: a large day's body as a
    document of dicts would take several times the memory of the rows (usage_stream)."""
    return lambda body: decode_usage(body, window, name)


def _add_usage(days: dict[date, DayUsage], rows: list[Usage]) -> None:
    for row in rows:
        day = days[row.day]
        if isinstance(row, ServerlessUsage):
            day.serverless.append(row)
        elif isinstance(row, DedicatedUsage):
            day.dedicated.append(row)
        else:
            day.training.append(row)


def _add_summary(days: dict[date, DayUsage], summary: _Summary) -> None:
    if summary.gap:
        for day in days.values():
            day.has_summary = False
            day.gaps.append(summary.gap)
    for item in summary.items:
        days[item.day].line_items.append(item)


def _add_key_costs(days: dict[date, DayUsage], key_costs: _KeyCosts) -> None:
    for day in days.values():
        day.gaps.extend(key_costs.gaps)
        if key_costs.rows is not None:
            day.key_costs = [row for row in key_costs.rows if row.day == day.day]
