"""The AWS calls a run makes, checked against the function role's policies as the stack made them.

moto does not enforce IAM, so a call the role does not allow would pass every other test and
fail on the first real run. Each recorded call is turned into the IAM request(s) AWS would
authorize (action, resource ARN, condition keys) and evaluated against the role's inline
policies: Allow statements matched by action and resource with `*`/`?` wildcards and the
string conditions the template uses. A call this module cannot map, or a condition operator it
does not know, fails the test rather than passing unchecked.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parseaddr
from fnmatch import fnmatchcase
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

Statement = dict[str, Any]


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Request:
    """One authorization AWS makes: this action on this resource, in this context."""

    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)


@contextmanager
def recorded_calls() -> Iterator[list[Call]]:
    """Every API call any boto3 client makes inside the block (Powertools' clients included)."""
    calls: list[Call] = []
    original = BaseClient._make_api_call

    def recording(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append(Call(client.meta.service_model.service_name, operation, dict(params)))
        return original(client, operation, params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", recording)
        yield calls


def requests_for(call: Call, region: str, account: str) -> list[Request]:
    """What AWS authorizes for `call`. SES is authorized against the sender's identity and,
    while the account is in the SES sandbox, against each recipient's identity as well."""
    p = call.params
    match call.service, call.operation:
        case "s3", "GetObject" | "PutObject":
            return [Request(f"s3:{call.operation}", f"arn:aws:s3:::{p['Bucket']}/{p['Key']}")]
        case "s3", "ListObjectsV2":
            context = {"s3:prefix": p["Prefix"]} if "Prefix" in p else {}
            return [Request("s3:ListBucket", f"arn:aws:s3:::{p['Bucket']}", context)]
        case "secretsmanager", "GetSecretValue":
            assert str(p["SecretId"]).startswith("arn:"), "the function is given secret ARNs"
            return [Request("secretsmanager:GetSecretValue", p["SecretId"])]
        case "ssm", "GetParameter":
            arn = f"arn:aws:ssm:{region}:{account}:parameter{p['Name']}"
            return [Request("ssm:GetParameter", arn)]
        case "sesv2", "SendEmail":
            sender = parseaddr(p["FromEmailAddress"])[1]
            recipients = [
                *p["Destination"].get("ToAddresses", []),
                *p["Destination"].get("CcAddresses", []),
            ]
            context = {"ses:FromAddress": sender}
            identities = [sender, *(parseaddr(r)[1] for r in recipients)]
            return [
                Request(
                    "ses:SendEmail", f"arn:aws:ses:{region}:{account}:identity/{identity}", context
                )
                for identity in identities
            ]
    raise AssertionError(f"{call.service}:{call.operation} is not mapped to IAM: add it here")


def role_statements(role_name: str) -> list[Statement]:
    """Every statement of the role's inline policies, as moto stored them."""
    iam = boto3.client("iam")
    statements: list[Statement] = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        # moto keeps a policy created by CloudFormation as the repr of a dict, not as JSON
        if isinstance(document, str):
            document = _parse_document(document)
        statements.extend(_as_list(document["Statement"]))
    return statements


def _parse_document(text: str) -> dict[str, Any]:
    try:
        return dict(json.loads(text))
    except json.JSONDecodeError:
        return dict(ast.literal_eval(text))


def is_allowed(statements: list[Statement], request: Request) -> bool:
    matching = [s for s in statements if _applies(s, request)]
    return any(s["Effect"] == "Allow" for s in matching) and not any(
        s["Effect"] == "Deny" for s in matching
    )


def _applies(statement: Statement, request: Request) -> bool:
    actions = [a.lower() for a in _as_list(statement["Action"])]
    return (
        any(fnmatchcase(request.action.lower(), action) for action in actions)
        and any(fnmatchcase(request.resource, r) for r in _as_list(statement["Resource"]))
        and _conditions_hold(statement.get("Condition", {}), request.context)
    )


def _conditions_hold(conditions: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        base = operator.removesuffix("IfExists")
        if base not in ("StringEquals", "StringLike"):
            raise AssertionError(f"condition operator {operator} is not rehearsed: add it here")
        for key, expected in tests.items():
            if key not in context:
                if operator.endswith("IfExists"):
                    continue
                return False
            value = context[key]
            patterns = _as_list(expected)
            if base == "StringEquals" and value not in patterns:
                return False
            if base == "StringLike" and not any(fnmatchcase(value, p) for p in patterns):
                return False
    return True


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
