"""The Glue table over the archive's normalized CSV: its columns are the CSV's contract.

The column list lives once, in template.yaml (DailyUsageTable). The CSV writer exports the same
names as fwcost.archive.CSV_COLUMNS; the test below fails as soon as the two differ.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode_str

REPO_ROOT = Path(__file__).resolve().parents[2]
ATHENA_TYPES = re.compile(r"string|date|bigint|double|decimal\(\d+,\d+\)")


@pytest.fixture(scope="module")
def table_input() -> dict[str, Any]:
    parsed, errors = decode_str((REPO_ROOT / "template.yaml").read_text())
    assert not errors, errors
    table = json.loads(json.dumps(parsed))["Resources"]["DailyUsageTable"]
    return table["Properties"]["TableInput"]


def test_columns_match_the_csv_writer(table_input: dict[str, Any]) -> None:
    archive = pytest.importorskip("fwcost.archive", reason="the CSV writer is not merged yet")
    columns = [column["Name"] for column in table_input["StorageDescriptor"]["Columns"]]

    assert tuple(columns) == tuple(archive.CSV_COLUMNS)


def test_columns_have_athena_types_that_opencsvserde_can_read(table_input: dict[str, Any]) -> None:
    columns = {
        column["Name"]: column["Type"] for column in table_input["StorageDescriptor"]["Columns"]
    }

    assert all(ATHENA_TYPES.fullmatch(kind) for kind in columns.values()), columns
    assert len(columns) == len(table_input["StorageDescriptor"]["Columns"]), "duplicate column"
    # OpenCSVSerde reads neither ISO dates nor decimals: strings, with the cast in the comment.
    comments = {
        c["Name"]: c.get("Comment", "") for c in table_input["StorageDescriptor"]["Columns"]
    }
    assert columns["day"] == "string"
    assert "DATE(day)" in comments["day"]
    assert columns["attributed_cost_usd"] == "string"
    assert "DECIMAL(18,2)" in comments["attributed_cost_usd"]
    assert columns["prompt_tokens"] == "bigint"
    assert columns["audio_input_seconds"] == "double"


def test_partitions_are_projected_onto_the_archive_layout(table_input: dict[str, Any]) -> None:
    parameters = table_input["Parameters"]
    partition_keys = [key["Name"] for key in table_input["PartitionKeys"]]

    assert partition_keys == ["account", "dt"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.account.type"] == "injected"
    assert parameters["projection.dt.type"] == "date"
    assert parameters["projection.dt.format"] == "yyyy-MM-dd"
    assert parameters["projection.dt.range"].endswith(",NOW")
    assert parameters["storage.location.template"] == {
        "Fn::Sub": "s3://${ArchiveBucket}/${ArchivePrefix}/account=${!account}/dt=${!dt}/csv/"
    }


def test_the_serde_splits_the_writers_csv_into_exactly_the_columns(
    table_input: dict[str, Any],
) -> None:
    import csv
    import io

    from fwcost.archive import usage_csv
    from samples import sample_day

    # Given a day whose key name holds a comma and quotes, as a user may name a key
    body = usage_csv(sample_day(), "acme-ai", "UTC", None).decode()
    serde = table_input["StorageDescriptor"]["SerdeInfo"]
    params = serde["Parameters"]

    # When it is read with the table's own separator and quote characters
    assert serde["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert table_input["Parameters"]["skip.header.line.count"] == "1"
    reader = csv.reader(
        io.StringIO(body), delimiter=params["separatorChar"], quotechar=params["quoteChar"]
    )
    header, *rows = list(reader)

    # Then every row has exactly the table's columns, and the awkward name survives
    width = len(table_input["StorageDescriptor"]["Columns"])
    assert len(header) == width
    assert all(len(row) == width for row in rows)
    assert 'batch, "nightly"' in {row[6] for row in rows}
