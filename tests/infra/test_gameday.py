"""The GameDay component under Pulumi's mock runtime: FIS templates and least-privilege roles."""

from __future__ import annotations

import json

import pulumi_aws as aws
import pytest

from infra.components.gameday import (
    ALL_EXPERIMENTS,
    DYNAMODB_PAUSE,
    EC2_STOP_AZ,
    NETWORK_DISRUPT,
    RDS_REBOOT,
    S3_PAUSE,
    GameDay,
    GameDayArgs,
    GameDayPolicyError,
    validate_game_day_args,
)
from infra.offline import OfflineResult, run_program

PRIMARY, DR = "us-east-1", "us-west-2"
ZONE = f"{PRIMARY}b"

# (action id, target key, resource type, parameters) each template must carry.
EXPECTED = {
    RDS_REBOOT: ("aws:rds:reboot-db-instances", "DBInstances", "aws:rds:db", {"forceFailover": "true"}),
    EC2_STOP_AZ: ("aws:ec2:stop-instances", "Instances", "aws:ec2:instance", {"startInstancesAfterDuration": "PT5M"}),
    NETWORK_DISRUPT: ("aws:network:disrupt-connectivity", "Subnets", "aws:ec2:subnet", {"duration": "PT5M", "scope": "all"}),
    DYNAMODB_PAUSE: ("aws:dynamodb:global-table-pause-replication", "Tables", "aws:dynamodb:global-table",
                     {"duration": "PT5M"}),
    S3_PAUSE: ("aws:s3:bucket-pause-replication", "Buckets", "aws:s3:bucket", {"duration": "PT5M", "region": DR}),
}

# What the harness calls (chaos/), and nothing else.
CHAOS_ACTIONS = {
    "rds:DescribeDBInstances", "rds:RebootDBInstance", "rds:PromoteReadReplica",
    "rds:RestoreDBInstanceToPointInTime", "rds:AddTagsToResource", "secretsmanager:GetSecretValue",
    "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable",
    "dynamodb:DescribeContinuousBackups", "dynamodb:BatchWriteItem", "dynamodb:UpdateTable",
    "dynamodb:DeleteTable", "dynamodb:RestoreTableToPointInTime",
    "s3:ListBucket", "s3:ListBucketVersions", "s3:PutObject", "s3:GetObject", "s3:GetObjectVersion",
    "s3:DeleteObject", "s3:DeleteObjectVersion",
    "route53:ChangeResourceRecordSets", "route53:GetChange",
    "route53:GetHealthCheckStatus", "route53:TestDNSAnswer",
    "fis:StartExperiment", "fis:TagResource", "fis:StopExperiment", "fis:GetExperiment",
}
# Actions that may stand on Resource "*" because the service offers no resource-level permission.
UNSCOPED_ALLOWED = {
    "tag:GetResources", "rds:DescribeDBInstances", "ec2:DescribeInstances", "ec2:DescribeNetworkAcls",
    "ec2:DescribeSubnets", "ec2:DescribeVpcs", "ec2:DescribeManagedPrefixLists",
    "ec2:GetManagedPrefixListEntries", "s3:ListAllMyBuckets", "route53:TestDNSAnswer", "kms:CreateGrant",
}

STOP_ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:guardrail"


def game_day_args(providers, **overrides) -> GameDayArgs:
    values = dict(
        primary_region=PRIMARY,
        dr_region=DR,
        providers=providers,
        stop_condition_alarm_arn=STOP_ALARM,
        az_outage_zone=ZONE,
        fault_duration="PT5M",
        dynamodb_table_names=["catalog-staging", "sessions-staging"],
        s3_bucket_names=["images-staging"],
        hosted_zone_id="ZSTAGING",
        private_zone_id="ZPRIVATE",
        disrupted_subnet_ids=["subnet-0c1d2e3f4a5b60711"],
        runner_principal_arns=["arn:aws:iam::123456789012:role/ci"],
        tags={"project": "securecart"},
    )
    values.update(overrides)
    return GameDayArgs(**values)


def evaluate(**overrides) -> OfflineResult:
    def program() -> None:
        providers = {region: aws.Provider(f"aws-{region}", region=region) for region in (PRIMARY, DR)}
        GameDay("gd", game_day_args(providers, **overrides))

    return run_program(program)


@pytest.fixture(scope="module")
def declared() -> OfflineResult:
    return evaluate()


def role(result: OfflineResult, name: str):
    [found] = [r for r in result.of_type("aws:iam/role:Role") if r.name == name]
    return found


def statements_of(result: OfflineResult, policy_name: str) -> list[dict]:
    [policy] = [p for p in result.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == policy_name]
    return json.loads(policy.inputs["policy"])["Statement"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_every_child_uses_the_primary_provider(declared):
    for resource in declared.resources:
        if resource.custom and not resource.type.startswith("pulumi:providers"):
            assert resource.provider == f"aws-{PRIMARY}", f"{resource.urn}: provider {resource.provider}"


@pytest.mark.parametrize("key", ALL_EXPERIMENTS)
def test_template_runs_its_action_on_opted_in_targets_and_stops_on_the_alarm(declared, key):
    action_id, target_key, resource_type, parameters = EXPECTED[key]
    [template] = [t for t in declared.of_type("aws:fis/experimentTemplate:ExperimentTemplate") if t.name == f"gd-{key}"]
    fis_role = role(declared, "gd-fis-role")
    assert template.inputs["roleArn"] == fis_role.outputs["arn"], template.urn
    assert template.inputs["stopConditions"] == [{"source": "aws:cloudwatch:alarm", "value": STOP_ALARM}], template.urn
    [action] = template.inputs["actions"]
    assert action["actionId"] == action_id, f"{template.urn}: {action['actionId']}"
    assert {p["key"]: p["value"] for p in action.get("parameters") or []} == parameters, template.urn
    [target] = template.inputs["targets"]
    assert action["target"] == {"key": target_key, "value": target["name"]}, f"{template.urn}: dangling target"
    assert target["resourceType"] == resource_type, template.urn
    if key == NETWORK_DISRUPT:
        # Subnets are the application team's, not ours to tag: the configured subnet, by ARN, so
        # the target can never resolve to nothing (nor to anything else).
        assert target["resourceArns"] == [f"arn:aws:ec2:{PRIMARY}:123456789012:subnet/subnet-0c1d2e3f4a5b60711"], \
            f"{template.urn}: {target}"
        assert "resourceTags" not in target, template.urn
    else:
        assert target["resourceTags"] == [{"key": "chaos-opt-in", "value": "true"}], f"{template.urn}: not opt-in only"
        assert "resourceArns" not in target, f"{template.urn}: targets by ARN, bypassing the opt-in"
    assert template.inputs["experimentOptions"]["emptyTargetResolutionMode"] == "fail", template.urn


@pytest.mark.parametrize(("key", "path"), [(EC2_STOP_AZ, "Placement.AvailabilityZone")])
def test_zone_experiments_only_touch_the_chosen_zone(declared, key, path):
    [template] = [t for t in declared.of_type("aws:fis/experimentTemplate:ExperimentTemplate") if t.name == f"gd-{key}"]
    filters = {f["path"]: f["values"] for f in template.inputs["targets"][0]["filters"]}
    assert filters[path] == [ZONE], f"{template.urn}: {filters}"


def test_fis_role_trusts_fis_of_this_account_and_scopes_mutations(declared):
    fis_role = role(declared, "gd-fis-role")
    trust = json.loads(fis_role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "fis.amazonaws.com"}, fis_role.urn
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012", fis_role.urn
    statements = statements_of(declared, "gd-fis-role-actions")
    for statement in statements:
        assert "*" not in statement["Action"], "wildcard action"
        if statement["Resource"] == "*":
            assert set(statement["Action"]) <= UNSCOPED_ALLOWED, f"unscoped mutation: {statement['Action']}"
    by_action = {action: s for s in statements for action in s["Action"]}
    for action in ("rds:RebootDBInstance", "ec2:StopInstances", "ec2:StartInstances"):
        condition = by_action[action]["Condition"]["StringEquals"]
        assert condition == {"aws:ResourceTag/chaos-opt-in": "true"}, f"{action} not limited to opted-in resources"
    assert by_action["dynamodb:PutResourcePolicy"]["Resource"] == [
        "arn:aws:dynamodb:*:123456789012:table/catalog-staging",
        "arn:aws:dynamodb:*:123456789012:table/sessions-staging",
    ]
    assert by_action["s3:PauseReplication"]["Resource"] == ["arn:aws:s3:::images-staging"]
    assert by_action["s3:PauseReplication"]["Condition"] == {"StringEquals": {"s3:DestinationRegion": DR}}


def test_chaos_role_allows_exactly_the_harness_calls(declared):
    chaos_role = role(declared, "gd-chaos-role")
    trust = json.loads(chaos_role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"AWS": ["arn:aws:iam::123456789012:role/ci"]}, chaos_role.urn
    statements = statements_of(declared, "gd-chaos-role-actions")
    granted = {action for s in statements for action in s["Action"]}
    assert granted == CHAOS_ACTIONS, f"extra: {granted - CHAOS_ACTIONS}, missing: {CHAOS_ACTIONS - granted}"
    for statement in statements:
        if statement["Resource"] == "*":
            assert set(statement["Action"]) <= UNSCOPED_ALLOWED, f"unscoped: {statement['Action']}"


def test_chaos_role_is_scoped_to_the_named_stores_zone_and_templates(declared):
    statements = statements_of(declared, "gd-chaos-role-actions")
    by_action = {action: s for s in statements for action in s["Action"]}
    assert by_action["rds:PromoteReadReplica"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/chaos-opt-in": "true"}}
    for resource in as_list(by_action["dynamodb:DeleteTable"]["Resource"]):
        assert "/catalog-staging" in resource or "/sessions-staging" in resource, resource
    for resource in as_list(by_action["s3:DeleteObjectVersion"]["Resource"]):
        assert resource == "arn:aws:s3:::images-staging/*", resource
    assert by_action["route53:ChangeResourceRecordSets"]["Resource"] == [
        "arn:aws:route53:::hostedzone/ZSTAGING", "arn:aws:route53:::hostedzone/ZPRIVATE"]
    template_ids = {t.id for t in declared.of_type("aws:fis/experimentTemplate:ExperimentTemplate")}
    started = {r.rsplit("/", 1)[-1] for r in by_action["fis:StartExperiment"]["Resource"] if "experiment-template/" in r}
    assert started == template_ids, f"may start {started}, templates are {template_ids}"


def test_a_stack_without_replication_declares_only_the_requested_templates():
    result = evaluate(experiments=[RDS_REBOOT, EC2_STOP_AZ], dynamodb_table_names=[], s3_bucket_names=[])
    names = sorted(t.name for t in result.of_type("aws:fis/experimentTemplate:ExperimentTemplate"))
    assert names == [f"gd-{EC2_STOP_AZ}", f"gd-{RDS_REBOOT}"]
    granted = {a for s in statements_of(result, "gd-fis-role-actions") for a in s["Action"]}
    assert not any(a.startswith(("dynamodb:", "s3:")) for a in granted), f"FIS role keeps {granted}"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"experiments": ["region-outage"]}, "experiments"),
        ({"az_outage_zone": f"{DR}a"}, "az_outage_zone"),
        ({"fault_duration": "10 minutes"}, "fault_duration"),
        ({"chaos_tag_value": ""}, "chaos_tag_key/value"),
        ({"dynamodb_table_names": []}, "dynamodb_table_names"),
        ({"s3_bucket_names": []}, "s3_bucket_names"),
        ({"disrupted_subnet_ids": []}, "disrupted_subnet_ids: network-disrupt-subnet needs the subnet"),
        ({"dr_region": PRIMARY}, "dr_region"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(overrides, field):
    with pytest.raises(GameDayPolicyError, match=field):
        validate_game_day_args(game_day_args({PRIMARY: object(), DR: object()}, **overrides))
