"""The Athena side of the named queries: template.yaml declares each .sql file as it is.

The SQL lives once, in src/fwcost/queries/*.sql (what `fwcost query` runs, locally with DuckDB
or on Athena); the template's NamedQuery resources must carry the same text, byte for byte, so
what people open in the Athena console is what the tests run against the demo archive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode_str

from fwcost.queries import named_queries
from fwcost.queries.local import CSV_FILES, NON_TEXT_TYPES

REPO_ROOT = Path(__file__).resolve().parents[2]
Template = dict[str, Any]


@pytest.fixture(scope="module")
def template() -> Template:
    parsed, errors = decode_str((REPO_ROOT / "template.yaml").read_text())
    assert not errors, errors
    return json.loads(json.dumps(parsed))


def declared_queries(template: Template) -> dict[str, Template]:
    return {
        resource["Properties"]["Name"]: resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Athena::NamedQuery"
    }


def test_every_query_file_is_a_named_query_with_the_same_text(template: Template) -> None:
    declared = declared_queries(template)

    assert set(declared) == set(named_queries())
    for name, query in named_queries().items():
        properties = declared[name]
        assert properties["QueryString"] == query.sql, f"paste src/fwcost/queries/{name}.sql"
        assert properties["Description"] == query.description
        assert properties["Database"] == {"Ref": "GlueDatabase"}
        assert properties["WorkGroup"] == {"Ref": "QueryWorkGroup"}


def test_the_workgroup_runs_engine_3_encrypts_results_and_caps_each_scan(
    template: Template,
) -> None:
    workgroup = template["Resources"]["QueryWorkGroup"]["Properties"]
    settings = workgroup["WorkGroupConfiguration"]
    results = settings["ResultConfiguration"]

    # The same engine as the dialect the queries keep to (Trino), whatever a client asks for
    assert settings["EngineVersion"]["SelectedEngineVersion"] == "Athena engine version 3"
    assert settings["EnforceWorkGroupConfiguration"] is True
    # results in their own bucket (the archive's Object Lock would keep them for years)
    assert results["OutputLocation"] == {"Fn::Sub": "s3://${QueryResultsBucket}/results/"}
    assert results["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    assert settings["BytesScannedCutoffPerQuery"] == {"Ref": "QueryBytesScannedCutoff"}
    bucket = template["Resources"]["QueryResultsBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert template["Outputs"]["AthenaWorkGroup"]["Value"] == {"Ref": "QueryWorkGroup"}


def test_the_local_view_has_the_glue_tables_column_types(template: Template) -> None:
    table = template["Resources"]["DailyUsageTable"]["Properties"]["TableInput"]
    glue_types = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}

    local_types = {
        name: NON_TEXT_TYPES.get(name, "VARCHAR").lower().replace("varchar", "string")
        for name in glue_types
    }
    assert local_types == glue_types


def test_the_local_view_reads_the_files_the_glue_table_reads(template: Template) -> None:
    # The table's location template, its partitions as wildcards: the view's glob (revisions/
    # and the reports' CSV stay outside both)
    table = template["Resources"]["DailyUsageTable"]["Properties"]["TableInput"]
    location = table["Parameters"]["storage.location.template"]["Fn::Sub"]
    under_prefix = location.removeprefix("s3://${ArchiveBucket}/${ArchivePrefix}/")

    assert under_prefix.replace("${!account}", "*").replace("${!dt}", "*") + "*.csv" == CSV_FILES
