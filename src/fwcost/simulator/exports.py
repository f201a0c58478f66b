"""A `firectl billing export-metrics` CSV, generated: deterministic, streamed, any size.

For the demo (the month before its seeded days, which the simulator does not serve), the
benchmark (a million rows) and tests. Rows spread over each UTC day: serverless requests by a
dozen users on a few models, batch and audio ones, and GPU time on dedicated deployments.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fwcost.dates import day_bounds
from fwcost.imports.export_csv import COLUMNS_11, COLUMNS_13

USERS = tuple(f"{name}@acme.example" for name in (
    "ana", "bo", "chen", "dara", "eli", "fatima", "gus", "hana", "ivan", "jo", "kai", "lea",
))  # fmt: skip
SERVERLESS = (  # (model, model bucket, parameter count)
    ("accounts/fireworks/models/kimi-k2p6", "moe_56b_to_176b", "1000000000000"),
    ("accounts/fireworks/models/gpt-oss-120b", "moe_56b_to_176b", "120000000000"),
    ("accounts/fireworks/models/llama-v3p1-8b-instruct", "4b_to_16b", "8000000000"),
)
TEXT = "TEXT_COMPLETION_INFERENCE_USAGE"
BATCH = "BATCH_TEXT_COMPLETION_INFERENCE_USAGE"
UTC_ZONE = ZoneInfo("UTC")
DEDICATED = ("DEDICATED_DEPLOYMENT_USAGE", "NVIDIA_H100_80GB", "accounts/acme/models/ranker-ft")


def export_lines(
    start: date,
    end: date,
    rows_per_day: int,
    *,
    columns: int = 13,
    seed: int = 15,
    tz: ZoneInfo = UTC_ZONE,
) -> Iterator[str]:
    """The export's lines, header first, for the days start to end (inclusive) in `tz`, each
    day's rows spread over its hours (23 or 25 on a DST day); times written in UTC."""
    pick = random.Random(seed)  # noqa: S311  # a repeatable sample, not a secret
    header = COLUMNS_13 if columns == 13 else COLUMNS_11
    yield ",".join(header) + "\n"
    day = start
    while day <= end:
        bounds = day_bounds(day, tz)
        seconds = int((bounds.end - bounds.start).total_seconds())
        for n in range(rows_per_day):
            begin = bounds.start + timedelta(seconds=n * seconds // rows_per_day)
            yield _row(pick, begin.astimezone(UTC), columns)
        day += timedelta(days=1)


def write_export(path: Path, start: date, end: date, rows_per_day: int, tz: ZoneInfo) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as out:
        out.writelines(export_lines(start, end, rows_per_day, tz=tz))
    return path


def _row(pick: random.Random, begin: datetime, columns: int) -> str:
    email = pick.choice(USERS)
    if pick.random() < 0.01:
        usage_type, accelerator, model = DEDICATED
        cells = [email, _stamp(begin), _stamp(begin + timedelta(seconds=3600)), usage_type,
                 accelerator, "3600", model, "", "", "", ""]  # fmt: skip
        return ",".join([*cells, "", ""] if columns == 13 else cells) + "\n"
    model, bucket, parameters = pick.choice(SERVERLESS)
    prompt, cached = pick.randint(200, 4000), pick.randint(0, 150)
    completion = pick.randint(20, 800)
    usage_type = BATCH if pick.random() < 0.1 else TEXT
    cells = [email, _stamp(begin), _stamp(begin + timedelta(seconds=2)), usage_type, "", "",
             model, bucket, parameters, str(prompt), str(completion)]  # fmt: skip
    if columns == 13:
        cells += [str(cached), str(prompt - cached)]
    return ",".join(cells) + "\n"


def _stamp(instant: datetime) -> str:
    return f"{instant:%Y-%m-%d %H:%M:%S} UTC"
