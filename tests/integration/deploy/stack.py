"""template.yaml as `sam deploy` would create it, inside moto.

`sam deploy` is three steps, rehearsed here without Docker or an AWS account:
1. package: local code paths (CodeUri, ContentUri) become S3 objects. moto's Lambda needs a real
   zip to create a function, but the rehearsal runs the handler in-process, so each path is
   replaced by a tiny zip uploaded to moto first: the function's code is not what is rehearsed;
   its names, ARNs, environment and role are. A state machine's DefinitionUri is inlined as
   its Definition (moto's CloudFormation reads DefinitionString only, not an S3 location).
2. transform: aws-sam-translator (the library `sam` itself uses) expands the SAM resources into
   plain CloudFormation, with the managed policy ARNs it bundles (no IAM lookup).
3. create-stack: moto's CloudFormation creates what it supports; every resource type it skips
   is returned, so the test can list them instead of ignoring them.

Where moto differs from CloudFormation, the difference is worked around here, in the open:
- moto does not validate parameters: `constraint_violations` checks them as CloudFormation does;
- moto turns `Fn::If` → `AWS::NoValue` inside a list into a null item (CloudFormation drops it):
  `drop_no_value_branches` resolves those conditions first;
- moto creates an AWS::S3::Bucket with its encryption only: `apply_bucket_protection` sets the
  versioning and Object Lock the template declares, through the S3 API.
"""

from __future__ import annotations

import io
import json
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from cfnlint.decode import decode_str
from samtranslator.translator.transform import transform

REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
ARTIFACTS_BUCKET = "fwcost-rehearsal-artifacts"
# Where `sam package` would point each resource type's local path.
CODE_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}
NO_VALUE = {"Ref": "AWS::NoValue"}
# How moto's CloudFormation warns that it skips a resource.
_UNSUPPORTED = re.compile(r"Tried to parse (\S+) but it's not supported")

Template = dict[str, Any]


@dataclass(frozen=True)
class Stack:
    name: str
    template: Template  # as created: translated, NoValue branches resolved
    given: dict[str, str]  # the parameters given to create-stack
    parameters: dict[str, str]  # every parameter's value, defaults included
    outputs: dict[str, str]
    created: dict[str, str]  # logical id → physical id of what moto created
    skipped_by_moto: set[str]  # the resource types moto warned it does not support
    function_name: str
    environment: dict[str, str]  # the function's environment, as Lambda reports it

    def not_created(self) -> dict[str, str]:
        """Logical id → type of each resource moto did not create. Meaningful when every
        condition holds: a resource under a false condition is not created either."""
        return {
            logical_id: resource["Type"]
            for logical_id, resource in self.template["Resources"].items()
            if logical_id not in self.created
        }


def load_template() -> Template:
    """template.yaml as plain dicts, short forms (!Ref, !Sub) in their long JSON forms."""
    parsed, errors = decode_str(TEMPLATE_PATH.read_text())
    assert not errors, errors
    return dict(json.loads(json.dumps(parsed)))


def constraint_violations(template: Template, given: dict[str, str]) -> dict[str, str]:
    """Parameter → why CloudFormation would refuse its value (moto checks none of this)."""
    problems = {}
    for name, declared in template["Parameters"].items():
        if name not in given:
            if "Default" not in declared:
                problems[name] = "required, not given"
            continue
        value = given[name]
        pattern = declared.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(pattern, value):
            problems[name] = f"{value!r} does not match {pattern}"
        if "AllowedValues" in declared and value not in map(str, declared["AllowedValues"]):
            problems[name] = f"{value!r} is not one of {declared['AllowedValues']}"
        if declared["Type"] == "Number":
            number = float(value)
            if number < float(declared.get("MinValue", number)):
                problems[name] = f"{value} is below {declared['MinValue']}"
            if number > float(declared.get("MaxValue", number)):
                problems[name] = f"{value} is above {declared['MaxValue']}"
    unknown = given.keys() - template["Parameters"].keys()
    problems.update(dict.fromkeys(unknown, "not a parameter of the template"))
    return problems


def deploy(name: str, given: dict[str, str], region: str) -> Stack:
    """Package, transform and create the stack in moto (which checks no parameter constraint)."""
    template = load_template()
    parameters = {
        key: str(declared["Default"])
        for key, declared in template["Parameters"].items()
        if "Default" in declared
    } | given
    translated = transform(_packaged(template, region), parameters, _BundledManagedPolicies())
    resolved = drop_no_value_branches(translated, parameters)
    cloudformation = boto3.client("cloudformation", region_name=region)
    # moto warns about each resource it skips, again whenever it re-reads the stack
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cloudformation.create_stack(
            StackName=name,
            TemplateBody=json.dumps(resolved),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        [described] = cloudformation.describe_stacks(StackName=name)["Stacks"]
        summaries = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
    assert described["StackStatus"] == "CREATE_COMPLETE", described
    skipped = {match[1] for w in caught if (match := _UNSUPPORTED.search(str(w.message)))}
    outputs = {output["OutputKey"]: output["OutputValue"] for output in described["Outputs"]}
    function_name = outputs["DailyReportFunctionName"]
    configuration = boto3.client("lambda", region_name=region).get_function_configuration(
        FunctionName=function_name
    )
    return Stack(
        name=name,
        template=resolved,
        given=given,
        parameters=parameters,
        outputs=outputs,
        # moto lists a skipped resource with an empty logical id
        created={
            s["LogicalResourceId"]: s["PhysicalResourceId"]
            for s in summaries
            if s["LogicalResourceId"]
        },
        skipped_by_moto=skipped,
        function_name=function_name,
        environment=dict(configuration["Environment"]["Variables"]),
    )


def _packaged(template: Template, region: str) -> Template:
    s3 = boto3.client("s3", region_name=region)
    if ARTIFACTS_BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    packaged = json.loads(json.dumps(template))
    for logical_id, resource in packaged["Resources"].items():
        if resource["Type"] == "AWS::Serverless::StateMachine":
            uri = resource["Properties"].pop("DefinitionUri")
            resource["Properties"]["Definition"] = json.loads((REPO_ROOT / uri).read_text())
            continue
        code_property = CODE_PROPERTIES.get(resource["Type"])
        if code_property is None:
            continue
        key = f"{logical_id}.zip"
        s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=key, Body=_tiny_zip(logical_id))
        resource["Properties"][code_property] = f"s3://{ARTIFACTS_BUCKET}/{key}"
    return dict(packaged)


def _tiny_zip(logical_id: str) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as files:
        files.writestr("README.txt", f"{logical_id}: stands in for the built code\n")
    return archive.getvalue()


class _BundledManagedPolicies:
    """The translator's managed-policy loader. Empty: it falls back to the ARNs it bundles
    (AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess), as `sam validate --lint` does offline."""

    def load(self) -> dict[str, str]:
        return {}


def drop_no_value_branches(template: Template, parameters: dict[str, str]) -> Template:
    """Resolve each `Fn::If` with an `AWS::NoValue` branch, as CloudFormation would: the item or
    property disappears when that branch is taken. Other intrinsics are left to moto."""
    conditions = template.get("Conditions", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            kept = [resolve(item) for item in node]
            return [item for item in kept if item != NO_VALUE]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Fn::If"} and NO_VALUE in node["Fn::If"][1:]:
            name, when_true, when_false = node["Fn::If"]
            chosen = when_true if _holds(conditions[name], conditions, parameters) else when_false
            return resolve(chosen)
        kept_properties = {key: resolve(value) for key, value in node.items()}
        return {key: value for key, value in kept_properties.items() if value != NO_VALUE}

    return dict(resolve(template))


def _holds(condition: Any, conditions: Template, parameters: dict[str, str]) -> bool:
    """The few condition functions the template uses, over parameter references and literals."""
    [(function, argument)] = condition.items()
    if function == "Fn::Not":
        return not _holds(argument[0], conditions, parameters)
    if function == "Fn::Equals":
        left, right = (parameters[a["Ref"]] if isinstance(a, dict) else a for a in argument)
        return bool(left == right)
    if function == "Condition":
        return _holds(conditions[argument], conditions, parameters)
    raise AssertionError(f"condition function {function} is not rehearsed: add it here")


def apply_bucket_protection(bucket: str, declared: Template, parameters: dict[str, str]) -> None:
    """Set the versioning and Object Lock the template declares for `bucket` (moto's
    CloudFormation ignores both), before anything is written to it."""
    s3 = boto3.client("s3")
    properties = declared["Properties"]
    s3.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration=properties["VersioningConfiguration"]
    )
    if properties.get("ObjectLockEnabled"):
        lock = json.loads(json.dumps(properties["ObjectLockConfiguration"]))
        retention = lock["Rule"]["DefaultRetention"]
        retention["Days"] = int(parameters[retention["Days"]["Ref"]])
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=lock)
