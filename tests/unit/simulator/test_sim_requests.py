"""Request parsing and response shaping, without HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fwcost.simulator import SimulatedAccount, SimulatorConfig
from fwcost.simulator.costs import CostQuery, parse_cost_query, usage_costs
from fwcost.simulator.summary import summary_days
from fwcost.simulator.wire import ApiError, local_days_inside, parse_window

LA = ZoneInfo("America/Los_Angeles")
ACCOUNT = SimulatedAccount(SimulatorConfig())
BODY = {
    "startTime": "2026-11-20T00:00:00Z",
    "endTime": "2026-11-22T00:00:00Z",
    "groupBy": ["DAY", "API_KEY"],
    "pageSize": 10,
}


def test_only_whole_local_days_inside_the_range_are_returned() -> None:
    start = datetime(2026, 11, 20, 12, tzinfo=UTC)
    end = datetime(2026, 11, 23, 8, tzinfo=UTC)  # 2026-11-23 00:00 in Los Angeles
    assert local_days_inside(start, end, LA) == [date(2026, 11, 21), date(2026, 11, 22)]
    assert local_days_inside(start, end, ZoneInfo("UTC")) == [
        date(2026, 11, 21),
        date(2026, 11, 22),
    ]


def test_the_window_accepts_any_offset() -> None:
    start, end = parse_window("2026-11-21T00:00:00-08:00", "2026-11-22T09:30:00.5+01:30")
    assert start == datetime(2026, 11, 21, 8, tzinfo=UTC)
    assert end == datetime(2026, 11, 22, 8, 0, 0, 500_000, tzinfo=UTC)


def test_summary_takes_the_date_part_and_excludes_the_end_date() -> None:
    assert summary_days("2025-10-05T00:00:00Z", "2025-10-07T00:00:00Z") == [
        date(2025, 10, 5),
        date(2025, 10, 6),
    ]
    assert summary_days("2025-10-05T23:00:00-07:00", "2025-10-06") == [date(2025, 10, 5)]
    with pytest.raises(ApiError, match="366"):
        summary_days("2024-01-01", "2025-06-01")


def _pages(body: dict[str, Any], caller: str) -> list[dict[str, Any]]:
    pages, token = [], ""
    while True:
        response = usage_costs(ACCOUNT, parse_cost_query(body | {"pageToken": token}), caller)
        pages.append(response)
        token = str(response.get("nextPageToken", ""))
        if not token:
            return pages


def test_page_tokens_are_opaque_and_bound_to_their_query() -> None:
    caller = ACCOUNT.admin_key.key_id
    first = usage_costs(ACCOUNT, parse_cost_query(BODY), caller)
    token = first["nextPageToken"]
    assert not token.isdigit()  # not a bare offset
    # The same query may change its page size between pages, but not what it asks.
    assert isinstance(parse_cost_query(BODY | {"pageToken": token, "pageSize": 3}), CostQuery)
    with pytest.raises(ApiError, match="pageToken"):
        parse_cost_query(BODY | {"pageToken": token, "groupBy": ["DAY"]})


def test_self_scope_sees_only_the_callers_key() -> None:
    caller = ACCOUNT.readonly_key.key_id
    pages = _pages(BODY | {"scope": "SELF"}, caller)
    rows = [row for page in pages for row in page["rows"]]
    assert {row["dimensions"]["apiKeyId"] for row in rows} == {caller}
    assert len(rows) == 2  # two days


def test_no_group_by_gives_one_row_for_the_range() -> None:
    body = {k: v for k, v in BODY.items() if k != "groupBy"}
    response = usage_costs(ACCOUNT, parse_cost_query(body), ACCOUNT.admin_key.key_id)
    assert response["rows"] == [{"subtotal": response["subtotal"]}]


def test_an_older_gateway_refuses_the_dimensions_it_does_not_know() -> None:
    from fwcost.simulator.usage import validate_group_by

    validate_group_by(["model_name", "job_id"])  # a current gateway knows both

    with pytest.raises(ApiError, match="groupBy 'job_id' is not a known dimension") as refusal:
        validate_group_by(["model_name", "job_id"], unknown=["job_id", "job_type"])
    assert refusal.value.status == 400
