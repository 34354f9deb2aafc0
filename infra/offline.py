"""Offline evaluation: run the real Pulumi program under Pulumi's mock runtime.

Two users:
- tests and the chaos harness call `evaluate_stack("prod")` to get what the program declares
  (every resource with its inputs, realistic outputs and region) and the `inventory` output,
  without a Pulumi CLI or AWS account;
- component tests call `run_program(fn)` to evaluate one component the same way.

`TopologyMocks` answers for the engine: a resource gets the outputs AWS would give it (ARNs in the
region of the provider that declares it, endpoints, stream ARNs, zone ids), a data source gets a
realistic answer (`getPolicyDocument` returns the JSON document built from its arguments).
Identifiers are derived from a hash of the resource name, so two evaluations of a stack agree.

Each evaluation runs in its own thread: Pulumi keeps its runtime state (settings, root stack,
config) in context variables and the asyncio loop is per thread, so a fresh thread starts from a
clean runtime and several stacks can be evaluated one after another in one process.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import copy
import functools
import gc
import hashlib
import importlib
import json
import re
import runpy
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func

from infra.config import ConfigError

PROJECT = "securecart-dr"
ACCOUNT_ID = "123456789012"
REPO_ROOT = Path(__file__).resolve().parent.parent
PROVIDER_TYPE = "pulumi:providers:aws"
STREAM_LABEL = "2026-11-25T00:00:00.000"


@dataclass(frozen=True)
class DeclaredResource:
    """One resource the program declared, as the mock engine saw it."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str
    region: str | None  # region of the aws.Provider that manages it; None for components
    parent: str | None  # parent URN; None under the root stack
    provider: str | None  # name of the explicit provider, None for the default provider
    dependencies: tuple[str, ...] = ()  # URNs of explicit `depends_on` (and of Outputs it read)
    ignore_changes: tuple[str, ...] = ()  # `ignore_changes` resource option

    @property
    def custom(self) -> bool:
        """True for real cloud resources, False for ComponentResources."""
        return not self.type.startswith("securecart:")


@dataclass
class OfflineResult:
    """What one offline evaluation declared and exported (plain JSON-able data)."""

    stack: str
    resources: list[DeclaredResource]
    outputs: dict[str, Any]

    @property
    def inventory(self) -> dict[str, Any]:
        """The `inventory` stack output (see docs/inventory.md)."""
        return self.outputs.get("inventory") or {}

    def of_type(self, type_token: str) -> list[DeclaredResource]:
        """All resources of one Pulumi type token, e.g. "aws:dynamodb/table:Table"."""
        return [r for r in self.resources if r.type == type_token]

    def children_of(self, urn: str) -> list[DeclaredResource]:
        """Direct children of a resource (usually a component)."""
        return [r for r in self.resources if r.parent == urn]

    def by_name(self, name: str) -> DeclaredResource:
        """The one resource with this logical name (KeyError if none)."""
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(f"no declared resource named {name!r}")


@dataclass
class _Pending:
    urn: str = ""
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _uuid(seed: str) -> str:
    return str(uuid.UUID(hex=_hex(seed, 32)))


def _is_stack_urn(urn: str) -> bool:
    """The root Stack is every top-level resource's parent; callers want None there."""
    return not urn or urn.split("::")[2] == "pulumi:pulumi:Stack"


def _provider_id(ref: str | None) -> str | None:
    """A provider reference is "<urn>::<id>"; an empty reference means the default provider."""
    if not ref:
        return None
    return ref.rsplit("::", 1)[-1]


class TopologyMocks(pulumi_mocks.Mocks):
    """Mock engine answers with AWS-shaped outputs, recording every declared resource.

    `default_region` is the region of the default provider (config `aws:region`); resources
    declared with an explicit `aws.Provider` get that provider's region.
    """

    def __init__(self, default_region: str | None = None) -> None:
        self.default_region = default_region
        self.resources: list[DeclaredResource] = []
        self._lock = threading.Lock()
        self._pending = threading.local()
        # provider id -> (logical name, region, default tags)
        self._providers: dict[str, tuple[str, str | None, dict[str, str]]] = {}

    # ----- engine hooks -------------------------------------------------------------------------

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = dict(args.inputs)
        pending: _Pending = getattr(self._pending, "value", _Pending())
        if args.typ == PROVIDER_TYPE:
            resource_id = f"{args.name}-{_hex(args.name, 8)}"
            region = inputs.get("region")
            # Provider inputs reach the engine as strings; structured ones are JSON.
            raw_tags = inputs.get("defaultTags") or {}
            default_tags = (json.loads(raw_tags) if isinstance(raw_tags, str) else raw_tags).get("tags") or {}
            with self._lock:
                self._providers[resource_id] = (args.name, region, dict(default_tags))
            provider_name = None
            outputs = inputs
        else:
            provider_name, region, default_tags = self._provider_of(args.provider)
            if args.custom:
                resource_id, computed = _outputs_for(args.typ, args.name, inputs, region)
                outputs = {**inputs, **computed}
                if "name" not in outputs and _is_autonamed(args.typ):
                    outputs["name"] = f"{args.name}-{_hex(args.name, 7)}"  # Pulumi autonaming
                # Some resources (autoscaling.Group) take tags as a list of {key, value, ...}.
                if isinstance(inputs.get("tags"), dict) or ("tags" not in inputs and default_tags):
                    outputs["tagsAll"] = {**default_tags, **(inputs.get("tags") or {})}
            else:
                resource_id, outputs = "", {}
                region = None
        record = DeclaredResource(
            urn=pending.urn,
            type=args.typ,
            name=args.name,
            inputs=inputs,
            outputs=outputs,
            id=resource_id,
            region=region,
            parent=None if _is_stack_urn(pending.parent) else pending.parent,
            provider=provider_name,
            dependencies=pending.dependencies,
            ignore_changes=pending.ignore_changes,
        )
        with self._lock:
            self.resources.append(record)
        return resource_id, outputs

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list | None]:
        _, region, _ = self._provider_of(args.provider)
        answer = _call_result(args.token, dict(args.args), region or "us-east-1")
        return answer, []

    # ----- helpers ------------------------------------------------------------------------------

    def _provider_of(self, ref: str | None) -> tuple[str | None, str | None, dict[str, str]]:
        provider_id = _provider_id(ref)
        with self._lock:
            if provider_id in self._providers:
                return self._providers[provider_id]
        # Pulumi's default provider (no explicit provider given): region from `aws:region`.
        return None, self.default_region, {}


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """MockMonitor that tells the mocks each resource's URN and parent.

    `MockResourceArgs` carries neither; the registration runs `new_resource` synchronously on the
    calling thread, so a thread-local hand-over is race-free.
    """

    mocks: TopologyMocks

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        self.mocks._pending.value = _Pending(
            urn=self.make_urn(request.parent, request.type, request.name), parent=request.parent,
            dependencies=tuple(request.dependencies), ignore_changes=tuple(request.ignoreChanges),
        )
        try:
            return super().RegisterResource(request)
        finally:
            self.mocks._pending.value = _Pending()


# ----- resource outputs ---------------------------------------------------------------------------


def _arn(service: str, region: str | None, resource: str, *, global_service: bool = False) -> str:
    region_part = "" if global_service or region is None else region
    return f"arn:aws:{service}:{region_part}:{ACCOUNT_ID}:{resource}"


def _autoname(name: str, inputs: dict, *keys: str) -> str:
    """The physical name: an explicit input, or Pulumi's autonaming (logical name + suffix)."""
    for key in keys:
        if inputs.get(key):
            return str(inputs[key])
    prefix = next((inputs[k] for k in ("namePrefix", "bucketPrefix") if inputs.get(k)), None)
    if prefix:
        return f"{prefix}{_hex(name, 7)}"
    return f"{name}-{_hex(name, 7)}"


def _rds_instance(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    identifier = _autoname(name, inputs, "identifier")
    port = int(inputs.get("port") or 5432)
    address = f"{identifier}.c{_hex(region or '', 10)}.{region}.rds.amazonaws.com"
    outputs: dict[str, Any] = {
        "identifier": identifier,
        "arn": _arn("rds", region, f"db:{identifier}"),
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "resourceId": f"db-{_hex(name, 26).upper()}",
        "availabilityZone": inputs.get("availabilityZone") or f"{region}a",
        "hostedZoneId": "Z2R2ITUGPM61AM",
        "engineVersionActual": f"{inputs.get('engineVersion') or '15'}.8",
        "status": "available",
    }
    if inputs.get("manageMasterUserPassword"):
        secret = f"rds!db-{_uuid(name)}"
        outputs["masterUserSecrets"] = [
            {
                "secretArn": _arn("secretsmanager", region, f"secret:{secret}-{_hex(name, 6)}"),
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId") or "",
                "secretStatus": "active",
            }
        ]
    return identifier, outputs


def _dynamodb_table(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    table = _autoname(name, inputs, "name")
    replicas = [
        {
            **replica,
            "arn": _arn("dynamodb", replica["regionName"], f"table/{table}"),
            "streamArn": _arn("dynamodb", replica["regionName"], f"table/{table}/stream/{STREAM_LABEL}"),
            "streamLabel": STREAM_LABEL,
        }
        for replica in inputs.get("replicas") or []
    ]
    outputs = {
        "name": table,
        "arn": _arn("dynamodb", region, f"table/{table}"),
        "streamArn": _arn("dynamodb", region, f"table/{table}/stream/{STREAM_LABEL}"),
        "streamLabel": STREAM_LABEL,
        "replicas": replicas,
    }
    return table, outputs


def _s3_bucket(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    bucket = _autoname(name, inputs, "bucket")
    outputs = {
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",  # S3 bucket ARNs carry neither region nor account
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
        "region": region,
        "hostedZoneId": "Z3AQBSTGFYJSTF",
    }
    return bucket, outputs


def _named_arn(service: str, resource_prefix: str, *, global_service: bool = False, key: str = "name"):
    """Outputs for resources whose id is their name and whose ARN is `<prefix><name>`."""

    def build(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
        physical = _autoname(name, inputs, key)
        arn = _arn(service, region, f"{resource_prefix}{physical}", global_service=global_service)
        return physical, {key: physical, "arn": arn}

    return build


def _generated_id(service: str, resource_prefix: str, id_prefix: str, length: int = 17):
    """Outputs for resources AWS identifies by a generated id (fs-…, i-…, policy-…)."""

    def build(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
        resource_id = f"{id_prefix}{_hex(name + (region or ''), length)}"
        return resource_id, {"arn": _arn(service, region, f"{resource_prefix}{resource_id}")}

    return build


def _kms_key(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    key_id = _uuid(f"{name}:{region}")
    return key_id, {"keyId": key_id, "arn": _arn("kms", region, f"key/{key_id}")}


def _hosted_zone(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    zone_id = "Z" + _hex(name, 20).upper()
    return zone_id, {
        "zoneId": zone_id,
        "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
        "nameServers": [f"ns-{i}.awsdns-{i:02d}.net" for i in (1, 2, 3, 4)],
    }


def _health_check(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    check_id = _uuid(name)
    return check_id, {"arn": f"arn:aws:route53:::healthcheck/{check_id}"}


def _route53_record(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    record_id = "_".join(
        str(part) for part in (inputs.get("zoneId"), inputs.get("name"), inputs.get("type"), inputs.get("setIdentifier")) if part
    )
    return record_id, {"fqdn": inputs.get("name")}


def _backup_plan(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    plan_id = _uuid(name)
    return plan_id, {"arn": _arn("backup", region, f"backup-plan:{plan_id}"), "version": _hex(name, 32)}


def _efs_replication(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    destination = dict(inputs.get("destination") or {})
    destination.setdefault("fileSystemId", f"fs-{_hex(name + str(destination.get('region')), 17)}")
    destination["status"] = "ENABLED"
    return inputs.get("sourceFileSystemId", name), {"destination": destination, "sourceFileSystemRegion": region}


def _efs_file_system(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    file_system_id, outputs = _generated_id("elasticfilesystem", "file-system/", "fs-")(name, inputs, region)
    return file_system_id, {**outputs, "dnsName": f"{file_system_id}.efs.{region}.amazonaws.com"}


def _budget(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    budget = _autoname(name, inputs, "name")
    return f"{ACCOUNT_ID}:{budget}", {"name": budget, "arn": f"arn:aws:budgets::{ACCOUNT_ID}:budget/{budget}"}


def _region_switch_plan(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    """ARC Region switch plans are global: `arn:aws:arc-region-switch::<account>:plan/<name>:<6 chars>`
    (PlanArn pattern in botocore's arc-region-switch model)."""
    plan = _autoname(name, inputs, "name")
    arn = f"arn:aws:arc-region-switch::{ACCOUNT_ID}:plan/{plan}:{_hex(name, 6)}"
    return arn, {"name": plan, "arn": arn, "owner": ACCOUNT_ID}


def _resiliency_policy(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    policy_id = _uuid(name)
    return policy_id, {"arn": _arn("resiliencehub", region, f"resiliency-policy/{policy_id}"),
                       "name": _autoname(name, inputs, "name")}


def _composite_alarm(name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    alarm = _autoname(name, inputs, "alarmName")
    return alarm, {"alarmName": alarm, "arn": _arn("cloudwatch", region, f"alarm:{alarm}")}


# Type token -> outputs builder. Anything not listed gets `_default_outputs` (id + ARN by name).
_BUILDERS: dict[str, Callable[[str, dict, str | None], tuple[str, dict]]] = {
    "aws:rds/instance:Instance": _rds_instance,
    "aws:dynamodb/table:Table": _dynamodb_table,
    "aws:s3/bucket:Bucket": _s3_bucket,
    "aws:s3/bucketV2:BucketV2": _s3_bucket,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _named_arn("kms", "", key="name"),
    "aws:iam/role:Role": _named_arn("iam", "role/", global_service=True),
    "aws:iam/policy:Policy": _named_arn("iam", "policy/", global_service=True),
    "aws:route53/zone:Zone": _hosted_zone,
    "aws:route53/healthCheck:HealthCheck": _health_check,
    "aws:route53/record:Record": _route53_record,
    "aws:backup/vault:Vault": _named_arn("backup", "backup-vault:"),
    "aws:backup/plan:Plan": _backup_plan,
    "aws:backup/framework:Framework": _named_arn("backup", "framework:"),
    "aws:backup/reportPlan:ReportPlan": _named_arn("backup", "report-plan:"),
    "aws:backup/restoreTestingPlan:RestoreTestingPlan": _named_arn("backup", "restore-testing-plan:"),
    "aws:sns/topic:Topic": _named_arn("sns", ""),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named_arn("cloudwatch", "alarm:"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": _composite_alarm,
    "aws:arcregionswitch/plan:Plan": _region_switch_plan,
    "aws:resiliencehub/resiliencyPolicy:ResiliencyPolicy": _resiliency_policy,
    "aws:resourcegroups/group:Group": _named_arn("resource-groups", "group/"),
    "aws:cloudwatch/eventRule:EventRule": _named_arn("events", "rule/"),
    "aws:rds/subnetGroup:SubnetGroup": _named_arn("rds", "subgrp:"),
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": _generated_id(
        "rds", "auto-backup:", "ab-", 26
    ),
    "aws:efs/fileSystem:FileSystem": _efs_file_system,
    "aws:efs/replicationConfiguration:ReplicationConfiguration": _efs_replication,
    "aws:ec2/instance:Instance": _generated_id("ec2", "instance/", "i-"),
    "aws:ec2/launchTemplate:LaunchTemplate": _generated_id("ec2", "launch-template/", "lt-"),
    "aws:ec2/vpc:Vpc": _generated_id("ec2", "vpc/", "vpc-"),
    "aws:ec2/subnet:Subnet": _generated_id("ec2", "subnet/", "subnet-"),
    "aws:ec2/securityGroup:SecurityGroup": _generated_id("ec2", "security-group/", "sg-"),
    "aws:dlm/lifecyclePolicy:LifecyclePolicy": _generated_id("dlm", "policy/", "policy-"),
    "aws:fis/experimentTemplate:ExperimentTemplate": _generated_id("fis", "experiment-template/", "EXT", 14),
    "aws:budgets/budget:Budget": _budget,
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": _generated_id("ce", "anomalymonitor/", "", 32),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": _generated_id("ce", "anomalysubscription/", "", 32),
}


@functools.lru_cache(maxsize=None)
def _is_autonamed(type_token: str) -> bool:
    """True when the SDK resource has a `name` property, which Pulumi fills when not given."""
    _, module_path, class_name = type_token.split(":")
    module_name = module_path.split("/")[0]
    try:
        module = importlib.import_module("pulumi_aws" if module_name == "index" else f"pulumi_aws.{module_name}")
    except ImportError:
        return False
    return isinstance(getattr(getattr(module, class_name, None), "name", None), property)


def _default_outputs(type_token: str, name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    service = type_token.split(":")[1].split("/")[0]
    resource_id = f"{name}-{_hex(name + (region or ''), 8)}"
    return resource_id, {"arn": _arn(service, region, f"{type_token.rsplit(':', 1)[-1].lower()}/{resource_id}")}


def _outputs_for(type_token: str, name: str, inputs: dict, region: str | None) -> tuple[str, dict]:
    builder = _BUILDERS.get(type_token)
    if builder is None:
        return _default_outputs(type_token, name, inputs, region)
    return builder(name, inputs, region)


# ----- data sources (invokes) ---------------------------------------------------------------------


def _policy_document(args: dict) -> dict:
    """Build the IAM JSON document `aws.iam.get_policy_document` would return."""

    def principals(items: list[dict]) -> dict | str:
        out: dict[str, Any] = {}
        for item in items:
            if item.get("type") == "*":
                return "*"
            identifiers = list(item.get("identifiers") or [])
            out[item["type"]] = identifiers[0] if len(identifiers) == 1 else sorted(identifiers)
        return out

    statements = []
    for raw in args.get("statements") or []:
        statement: dict[str, Any] = {}
        if raw.get("sid"):
            statement["Sid"] = raw["sid"]
        statement["Effect"] = raw.get("effect") or "Allow"
        for key, json_key in (
            ("actions", "Action"),
            ("notActions", "NotAction"),
            ("resources", "Resource"),
            ("notResources", "NotResource"),
        ):
            if raw.get(key):
                values = list(raw[key])
                statement[json_key] = values[0] if len(values) == 1 else values
        if raw.get("principals"):
            statement["Principal"] = principals(raw["principals"])
        if raw.get("notPrincipals"):
            statement["NotPrincipal"] = principals(raw["notPrincipals"])
        if raw.get("conditions"):
            conditions: dict[str, dict[str, Any]] = {}
            for condition in raw["conditions"]:
                values = list(condition.get("values") or [])
                conditions.setdefault(condition["test"], {})[condition["variable"]] = (
                    values[0] if len(values) == 1 else values
                )
            statement["Condition"] = conditions
        statements.append(statement)
    document = {"Version": args.get("version") or "2012-10-17", "Statement": statements}
    return {
        "id": _hex(json.dumps(document, sort_keys=True), 10),
        "json": json.dumps(document, indent=2),
        "minifiedJson": json.dumps(document, separators=(",", ":")),
    }


def _call_result(token: str, args: dict, region: str) -> dict:
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "id": ACCOUNT_ID,
            "accountId": ACCOUNT_ID,
            "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/securecart-ci",
            "userId": "AIDAEXAMPLEUSERID",
        }
    if token == "aws:index/getRegion:getRegion":
        return {"id": region, "name": region, "region": region, "endpoint": f"ec2.{region}.amazonaws.com",
                "description": region}
    if token == "aws:index/getPartition:getPartition":
        return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"}
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        names = [f"{region}{letter}" for letter in "abc"]
        return {"id": region, "names": names, "zoneIds": [f"use-az{i}" for i in (1, 2, 3)],
                "groupNames": [region], "state": "available"}
    if token == "aws:iam/getPolicyDocument:getPolicyDocument":
        return _policy_document(args)
    if token == "aws:iam/getPolicy:getPolicy":
        arn = args.get("arn") or f"arn:aws:iam::aws:policy/{args.get('name')}"
        return {"id": arn, "arn": arn, "name": arn.rsplit("/", 1)[-1], "policy": "{}"}
    if token in ("aws:kms/getKey:getKey", "aws:kms/getAlias:getAlias"):
        key_id = _uuid(f"{args.get('keyId') or args.get('name')}:{region}")
        arn = _arn("kms", region, f"key/{key_id}")
        return {"id": key_id, "arn": arn, "keyId": key_id, "targetKeyArn": arn, "targetKeyId": key_id,
                "name": args.get("name")}
    if token == "aws:ec2/getVpc:getVpc":
        vpc_id = f"vpc-{_hex(region, 17)}"
        return {"id": vpc_id, "arn": _arn("ec2", region, f"vpc/{vpc_id}"), "cidrBlock": "172.31.0.0/16"}  # the default VPC CIDR
    if token == "aws:ec2/getSubnets:getSubnets":
        return {"id": region, "ids": [f"subnet-{_hex(region + z, 17)}" for z in "abc"]}
    if token == "aws:ec2/getAmi:getAmi":
        ami = f"ami-{_hex(region, 17)}"
        return {"id": ami, "arn": _arn("ec2", region, f"image/{ami}"), "imageId": ami}
    if token == "aws:ssm/getParameter:getParameter":
        return {"id": args.get("name"), "name": args.get("name"), "value": f"ami-{_hex(region, 17)}",
                "type": "String", "arn": _arn("ssm", region, f"parameter{args.get('name')}")}
    # Fail loudly: an empty answer would surface later as a confusing KeyError in a component.
    raise NotImplementedError(f"infra.offline.TopologyMocks has no answer for data source {token}; add one in _call_result")


# ----- running programs ---------------------------------------------------------------------------


def _config_value(value: Any) -> str:
    """Pulumi hands config to programs as strings; structured values as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _plain(value: Any) -> Any:
    """Deep-copy into JSON-able data (drops Pulumi's internal markers)."""
    return json.loads(json.dumps(value, default=str))


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector during a burst of allocation: an evaluation, or loading the
    SDK's classes. An evaluation builds ~150k objects, most in reference cycles (Outputs and their
    futures), beside the tens of thousands pulumi_aws's classes hold; the collector walked them
    again and again, about half of an evaluation's CPU. What the burst leaves is collected once,
    by the first collection after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_program(
    program: Callable[[], Any],
    *,
    stack: str = "test",
    project: str = PROJECT,
    config: Mapping[str, Any] | None = None,
) -> OfflineResult:
    """Run `program` as a Pulumi program under TopologyMocks in a clean runtime.

    `config` maps full keys ("securecart-dr:workloads", "aws:region") to values (structured
    values are passed as JSON, as the Pulumi CLI does). Exceptions raised by the program
    (e.g. ConfigError) propagate to the caller.
    """
    config = {key: _config_value(value) for key, value in (config or {}).items()}
    result: dict[str, Any] = {}

    def run_in_fresh_runtime() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            # A fresh thread has empty context variables; Settings() initialises the runtime's
            # per-context state (RPC manager, pending outputs, lock) before the mocks go in.
            pulumi_settings.configure(pulumi_settings.Settings(project=project, stack=stack))
            set_all_config(config)
            mocks = TopologyMocks(default_region=config.get("aws:region"))
            pulumi_mocks.set_mocks(
                mocks, project=project, stack=stack, preview=False, monitor=_RecordingMonitor(mocks)
            )
            root = pulumi_settings.get_root_resource()
            loop.run_until_complete(run_pulumi_func(program))
            exported = loop.run_until_complete(pulumi.Output.from_input(dict(root.outputs)).future())
            result["value"] = OfflineResult(
                stack=stack,
                resources=[
                    DeclaredResource(**{**r.__dict__, "inputs": _plain(r.inputs), "outputs": _plain(r.outputs)})
                    for r in mocks.resources
                ],
                outputs=_plain(exported or {}),
            )
        except BaseException as error:  # noqa: BLE001 handed to the calling thread
            result["error"] = error
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    # Daemon: Ctrl-C in the caller must not wait for an evaluation nobody will read.
    worker = threading.Thread(target=run_in_fresh_runtime, name=f"pulumi-offline-{stack}", daemon=True)
    with gc_paused():
        worker.start()
        worker.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def available_stacks(project_dir: Path = REPO_ROOT) -> list[str]:
    """Stack names that have a Pulumi.<stack>.yaml in the project directory."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def load_stack_file(stack: str, project_dir: Path = REPO_ROOT) -> dict[str, Any]:
    """The `config:` block of Pulumi.<stack>.yaml, keys made full ("<namespace>:<key>")."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"stack: no {path.name} in {project_dir}; available stacks: {', '.join(available_stacks(project_dir)) or 'none'}"
        )
    document = yaml.safe_load(path.read_text()) or {}
    raw = document.get("config") or {}
    return {(key if ":" in key else f"{PROJECT}:{key}"): value for key, value in raw.items()}


def apply_override(config: dict[str, Any], key: str, value: Any) -> None:
    """Set `namespace:top.nested.path` to value (None deletes it)."""
    full_key = key if ":" in key else f"{PROJECT}:{key}"
    namespace, _, path = full_key.partition(":")
    top, *nested = path.split(".")
    top_key = f"{namespace}:{top}"
    if not nested:
        if value is None:
            config.pop(top_key, None)
        else:
            config[top_key] = value
        return
    node = config.setdefault(top_key, {})
    for part in nested[:-1]:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(nested[-1], None)
    else:
        node[nested[-1]] = value


_SDK_NAME = re.compile(r"\baws\.([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\b")


def preload_program(project_dir: Path = REPO_ROOT) -> None:
    """Import what evaluating the program imports: the modules `__main__.py` imports and the
    pulumi_aws classes and functions the program names (`aws.<module>.<name>` in its source).

    pulumi_aws loads a module on first use; for this program that is ~0.8 s of CPU, more than
    the evaluation itself. Done once before forking evaluations (infra/cost/evaluations.py), every fork
    starts with them. A warm-up only: anything missed here is imported where it is used.
    """
    with gc_paused():
        _preload(project_dir)


def _preload(project_dir: Path) -> None:
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    main = project_dir / "__main__.py"
    for node in ast.walk(ast.parse(main.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            importlib.import_module(node.module)
    names: set[tuple[str, str]] = set()
    for path in [main, *sorted((project_dir / "infra").rglob("*.py"))]:
        names.update(_SDK_NAME.findall(path.read_text(encoding="utf-8")))
    for module_name, name in sorted(names):
        try:
            getattr(importlib.import_module(f"pulumi_aws.{module_name}"), name, None)
        except ImportError:
            continue  # not an SDK module: a name in a comment or a docstring


def evaluate_stack(
    stack: str,
    project_dir: Path = REPO_ROOT,
    overrides: Mapping[str, Any] | None = None,
) -> OfflineResult:
    """Evaluate `__main__.py` for Pulumi.<stack>.yaml under the mock runtime.

    `overrides` replaces config values before the run; a key may address a nested value with
    dots ("securecart-dr:workloads.orders.strategy"); a None value removes the key.
    """
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))  # `pulumi up` runs the program with its directory importable
    config = copy.deepcopy(load_stack_file(stack, project_dir))
    for key, value in (overrides or {}).items():
        apply_override(config, key, value)
    main = project_dir / "__main__.py"
    return run_program(
        lambda: runpy.run_path(str(main), run_name="__main__"), stack=stack, config=config
    )
