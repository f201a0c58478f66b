"""One report day's raw Fireworks bodies, fetched once from the simulator and replayed after.

Replaying through the real FireworksClient (over an httpx.MockTransport answering from the
recording) keeps the client's own decode, parse and normalize path in the end-to-end figure,
without the simulator's cost of generating the data.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from fwcost.fireworks import FireworksClient
from fwcost.model import RawResponse, WindowPull
from fwcost.simulator import SimulatorConfig, run_simulator

ReplayKey = tuple[str, str, tuple[tuple[str, str], ...], bytes]


@dataclass(frozen=True, slots=True)
class Recording:
    rows: int  # the for_rows knob the day was made with
    day: date
    timezone: str
    account_id: str
    api_key: str
    raw: list[RawResponse]
    usage_rows: int  # serverless + dedicated + training rows the day actually holds

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def body_bytes(self) -> int:
        return sum(len(response.body) for response in self.raw)

    def save(self, path: Path) -> None:
        path.write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))

    @staticmethod
    def load(path: Path) -> Recording:
        with path.open("rb") as file:  # from the file: never its bytes and the objects at once
            recording = pickle.load(file)
        assert isinstance(recording, Recording)
        return recording


def record_day(rows: int, day: date, timezone: str = "UTC") -> Recording:
    """Fetch `day` from a simulated account of about `rows` usage rows a day, over loopback."""
    config = SimulatorConfig.for_rows(rows)
    with (
        run_simulator(config) as sim,
        FireworksClient(
            api_key=config.api_key, account_id=config.account_id, base_url=sim.base_url
        ) as client,
    ):
        pull = client.fetch_window(day, day, ZoneInfo(timezone))
    return Recording(
        rows=rows,
        day=day,
        timezone=timezone,
        account_id=config.account_id,
        api_key=config.api_key,
        raw=pull.raw,
        usage_rows=_usage_rows(pull),
    )


def _usage_rows(pull: WindowPull) -> int:
    return sum(len(d.serverless) + len(d.dedicated) + len(d.training) for d in pull.days.values())


def replay_client(recording: Recording, *, keep: bool = False) -> FireworksClient:
    """A FireworksClient whose every request is answered from the recording, byte for byte.

    By default the recording's bodies are handed over as a network hands bytes over: the
    recording's list is emptied and each body dropped by the replay once served, so from then on
    only the job holds them, and the process's peak memory is the job's, not the job's plus a
    second copy of the day (463 MB of a million-row day's 1.5 GB, measured). With `keep`, the
    recording keeps them and answers any number of times (the in-process stages, run N times).
    """
    answers = {_key(r.method, r.path, r.params, r.request_body): r for r in recording.raw}
    if not keep:
        recording.raw.clear()
    take = answers.get if keep else answers.pop

    def answer(request: httpx.Request) -> httpx.Response:
        params = tuple(request.url.params.multi_items())
        found = take(_key(request.method, request.url.path, params, request.content), None)
        if found is None:
            return httpx.Response(
                404, json={"code": 5, "message": "not in the recording, or served already"}
            )
        return httpx.Response(found.status, content=found.body)

    return FireworksClient(
        api_key=recording.api_key,
        account_id=recording.account_id,
        base_url="http://replay.invalid",
        http=httpx.Client(transport=httpx.MockTransport(answer)),
    )


def _key(method: str, path: str, params: tuple[tuple[str, str], ...], body: bytes) -> ReplayKey:
    return method, path, tuple(params), body
