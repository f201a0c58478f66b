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


def test_columns_have_athena_types_and_money_is_decimal(table_input: dict[str, Any]) -> None:
    columns = {
        column["Name"]: column["Type"] for column in table_input["StorageDescriptor"]["Columns"]
    }

    assert all(ATHENA_TYPES.fullmatch(kind) for kind in columns.values()), columns
    assert columns["day"] == "date"
    assert columns["attributed_cost_usd"] == "decimal(18,9)"
    assert len(columns) == len(table_input["StorageDescriptor"]["Columns"]), "duplicate column"


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


def test_csv_header_is_skipped(table_input: dict[str, Any]) -> None:
    assert table_input["Parameters"]["skip.header.line.count"] == "1"
    serde = table_input["StorageDescriptor"]["SerdeInfo"]
    assert serde["Parameters"]["field.delim"] == ","
