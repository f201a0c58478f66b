"""The export parser: both headers, every usage type, empty accelerator fields, day boundaries
in the report timezone (DST days included), and errors that name file, line and column."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fwcost.imports.export_csv import COLUMNS_11, COLUMNS_13, ExportRowError, read_export
from fwcost.simulator.exports import export_lines

UTC = ZoneInfo("UTC")
LA = ZoneInfo("America/Los_Angeles")
HEADER_11 = ",".join(COLUMNS_11)
HEADER_13 = ",".join(COLUMNS_13)


def read(text: str, tz: ZoneInfo = UTC):
    return read_export(io.StringIO(text, newline=""), "export.csv", tz)


def test_the_11_column_header_with_every_usage_type_and_empty_accelerator_fields():
    text = "\n".join(
        [
            HEADER_11,
            "ana@x.io,2025-10-20 17:16:48 UTC,2025-10-20 17:16:50 UTC,TEXT_COMPLETION_INFERENCE_USAGE,,,"
            "accounts/fireworks/models/kimi-k2p6,moe_56b_to_176b,1000000000000,1200,300",
            "ana@x.io,2025-10-20 18:00:00 UTC,2025-10-20 18:00:01 UTC,TEXT_COMPLETION_INFERENCE_USAGE,,,"
            "accounts/fireworks/models/kimi-k2p6,moe_56b_to_176b,1000000000000,800,100",
            "bo@x.io,2025-10-20 19:00:00 UTC,2025-10-20 20:00:00 UTC,DEDICATED_DEPLOYMENT_USAGE,"
            "NVIDIA_H100_80GB,3600.5,accounts/acme/models/ft,,,,",
            "bo@x.io,2025-10-20 19:00:00 UTC,2025-10-20 19:01:00 UTC,AUDIO_INFERENCE_USAGE,,,whisper-v3,,,,",
            "cy@x.io,2025-10-20 21:00:00 UTC,2025-10-20 22:00:00 UTC,TRAINING_USAGE,NVIDIA_A100_80GB,"
            "7200,llama-v3p1-8b-instruct,,,,",
            "",
        ]
    )
    summary = read(text)
    assert (summary.columns, summary.rows) == (11, 5)
    groups = summary.days[date(2025, 10, 20)].groups
    by_type = {key.usage_type: (key, sums) for key, sums in groups.items()}
    assert set(by_type) == {
        "TEXT_COMPLETION_INFERENCE_USAGE", "DEDICATED_DEPLOYMENT_USAGE",
        "AUDIO_INFERENCE_USAGE", "TRAINING_USAGE",
    }  # fmt: skip
    key, text_sums = by_type["TEXT_COMPLETION_INFERENCE_USAGE"]
    assert (text_sums.requests, text_sums.prompt_tokens, text_sums.completion_tokens) == (
        2,
        2000,
        400,
    )
    assert key.email == "ana@x.io" and key.accelerator_type == ""
    assert by_type["DEDICATED_DEPLOYMENT_USAGE"][1].accelerator_seconds == Decimal("3600.5")
    assert by_type["AUDIO_INFERENCE_USAGE"][1].prompt_tokens == 0


def test_the_13_column_header_counts_cached_prompt_tokens():
    row = ("ana@x.io,2025-10-20 17:16:48 UTC,2025-10-20 17:16:50 UTC,TEXT_COMPLETION_INFERENCE_USAGE,"
           ",,gpt-oss-120b,,,1000,50,{total}")  # fmt: skip
    summary = read(f"{HEADER_13}\n{row.format(total='400,600')}\n")
    (sums,) = summary.days[date(2025, 10, 20)].groups.values()
    assert (summary.columns, sums.prompt_tokens, sums.cached_prompt_tokens) == (13, 1000, 400)
    # a row that gives only the cached and uncached parts has their sum as its prompt tokens
    row = row.replace(",1000,", ",,")
    (sums,) = (
        read(f"{HEADER_13}\n{row.format(total='400,600')}\n")
        .days[date(2025, 10, 20)]
        .groups.values()
    )
    assert sums.prompt_tokens == 1000


def test_requests_fall_on_report_days_in_the_report_timezone():
    # 2025-11-02 in Los Angeles is the autumn DST day: 25 hours, 07:00 UTC to 08:00 UTC next day
    lines = [HEADER_11] + [
        f"a@x.io,{stamp} UTC,{stamp} UTC,TEXT_COMPLETION_INFERENCE_USAGE,,,m,,,1,0"
        for stamp in (
            "2025-11-02 06:59:59",  # 1 Nov, 23:59:59 PDT
            "2025-11-02 07:00:00",  # 2 Nov, 00:00 PDT: the day's first second
            "2025-11-03 07:59:59",  # 2 Nov, 23:59:59 PST: its 25th hour
            "2025-11-03 08:00:00",  # 3 Nov
        )
    ]
    days = read("\n".join(lines) + "\n", LA).days
    assert {day: sum(s.requests for s in d.groups.values()) for day, d in days.items()} == {
        date(2025, 11, 1): 1, date(2025, 11, 2): 2, date(2025, 11, 3): 1,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("row", "line", "column"),
    [
        ("a@x.io,2025-10-20 17:16:48,2025-10-20 17:16:50 UTC,T,,,m,,,1,1", 3, "start_time"),
        ("a@x.io,2025-10-20 17:16:48 UTC,2025-10-20 17:16:61 UTC,T,,,m,,,1,1", 3, "end_time"),
        ("a@x.io,2025-10-20 17:16:48 UTC,2025-10-20 17:16:40 UTC,T,,,m,,,1,1", 3, "end_time"),
        ("a@x.io,2025-10-20 17:16:48 UTC,2025-10-20 17:16:50 UTC,,,,m,,,1,1", 3, "usage_type"),
        (
            "a@x.io,2025-10-20 17:16:48 UTC,2025-10-20 17:16:50 UTC,T,,x,m,,,1,1",
            3,
            "accelerator_seconds",
        ),
        ("a@x.io,2025-10-20 17:16:48 UTC,2025-10-20 17:16:50 UTC,T,,,m,,,-1,1", 3, "prompt_tokens"),
        (
            "a@x.io,2025-10-20 17:16:48 UTC,2025-10-20 17:16:50 UTC,T,,,m,,,1,1.5",
            3,
            "completion_tokens",
        ),
        (
            "a@x.io,2025-10-20 17:16:48 UTC,2025-10-20 17:16:50 UTC,T,,,m,,big,1,1",
            3,
            "parameter_count",
        ),
        (
            "a@x.io,2025-10-20 17:16:48 UTC,2025-10-20 17:16:50 UTC,T,,,m,,,1",
            3,
            "completion_tokens",
        ),
    ],
)
def test_a_malformed_row_names_the_file_line_and_column(row, line, column):
    good = "a@x.io,2025-10-20 17:16:48 UTC,2025-10-20 17:16:50 UTC,T,,,m,,,1,1"
    with pytest.raises(ExportRowError) as raised:
        read(f"{HEADER_11}\n{good}\n{row}\n{good}\n")
    error = raised.value
    assert (error.source, error.line, error.column) == ("export.csv", line, column)
    assert str(error).startswith(f"export.csv, line {line}, column {column}: ")
    assert "\n" not in str(error)


def test_a_header_that_is_not_an_export_is_refused_on_line_1():
    with pytest.raises(
        ExportRowError, match=r"line 1, column 2 \('start'\): expected 'start_time'"
    ):
        read("email,start,end\n")
    with pytest.raises(ExportRowError, match=r"line 1.*file is empty"):
        read("")


def test_the_generated_export_reads_back_with_its_row_count():
    for columns in (11, 13):
        lines = export_lines(date(2025, 10, 1), date(2025, 10, 3), 500, columns=columns)
        summary = read("".join(lines))
        assert (summary.columns, summary.rows) == (columns, 1500)
        assert sorted(summary.days) == [date(2025, 10, d) for d in (1, 2, 3)]


def test_bytes_that_are_not_utf8_text_are_refused_near_their_line():
    from fwcost.imports.export_csv import read_export as read_text

    good = "a@x.io,2025-10-20 17:16:48 UTC,2025-10-20 17:16:50 UTC,T,,,m,,,1,1\n"
    raw = (HEADER_11 + "\n" + good * 3).encode() + b"\xff\xfe,bad\n"
    stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", newline="")
    with pytest.raises(
        ExportRowError, match=r"export\.csv, line \d+, column \(any\): not UTF-8 text"
    ):
        read_text(stream, "export.csv", UTC)
