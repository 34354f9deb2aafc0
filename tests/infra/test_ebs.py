"""The compute tier under Pulumi's mock runtime: instances, DR capacity, DLM snapshots and copies."""

from __future__ import annotations

import json
from collections import Counter

import pulumi_aws as aws
import pytest

from infra.components.ebs import (
    DLM_SERVICE_ROLE_POLICY,
    ComputePolicyError,
    ComputeTier,
    ComputeTierArgs,
    SnapshotScheduleSpec,
    validate_compute_args,
)
from infra.offline import OfflineResult, run_program
from tests.infra.conftest import assert_explicit_providers_in

PRIMARY, DR = "us-east-1", "us-west-2"
SCHEDULES = [SnapshotScheduleSpec("every-12h", 12, retain_count=14, dr_retain_days=7),
             SnapshotScheduleSpec("daily", 24, retain_count=30, dr_retain_days=30, start_time_utc="02:00")]


def compute_args(providers, **overrides) -> ComputeTierArgs:
    values = dict(
        workload="compute",
        primary_region=PRIMARY,
        dr_region=DR,
        providers=providers,
        primary_zones=[f"{PRIMARY}a", f"{PRIMARY}b"],
        dr_zones=[f"{DR}a", f"{DR}b"],
        instance_count=3,
        dr_capacity=0,
        schedules=SCHEDULES,
        instance_tags={"chaos-opt-in": "true", "backup-tier": "standard"},
        tags={"project": "securecart"},
    )
    values.update(overrides)
    return ComputeTierArgs(**values)


def evaluate(**overrides) -> OfflineResult:
    def program() -> None:
        providers = {region: aws.Provider(f"aws-{region}", region=region) for region in (PRIMARY, DR)}
        ComputeTier("compute", compute_args(providers, **overrides))

    return run_program(program)


@pytest.fixture(scope="module")
def pilot_light() -> OfflineResult:
    return evaluate()


def only(result: OfflineResult, type_token: str) -> list:
    return result.of_type(type_token)


def test_every_child_uses_an_explicit_provider_of_one_of_the_two_regions(pilot_light):
    assert_explicit_providers_in(pilot_light, (PRIMARY, DR))


def test_each_region_has_a_hardened_launch_template_with_its_own_ami(pilot_light):
    templates = {t.region: t for t in only(pilot_light, "aws:ec2/launchTemplate:LaunchTemplate")}
    assert set(templates) == {PRIMARY, DR}
    # The AMI look-up answers per region: equal ids would mean both used the same provider.
    assert templates[PRIMARY].inputs["imageId"] != templates[DR].inputs["imageId"], "AMI looked up in one region only"
    for template in templates.values():
        assert template.inputs["metadataOptions"]["httpTokens"] == "required", f"{template.urn}: IMDSv1 allowed"
        [disk] = template.inputs["blockDeviceMappings"]
        assert disk["ebs"]["encrypted"] == "true", f"{template.urn}: unencrypted root volume"
        volume_tags = next(s["tags"] for s in template.inputs["tagSpecifications"] if s["resourceType"] == "volume")
        assert volume_tags.get("dlm-snapshots") == "compute", f"{template.urn}: volumes miss the DLM target tag"
        assert volume_tags.get("chaos-opt-in") == "true", f"{template.urn}: volumes miss the extra tags"


def test_primary_instances_spread_over_the_zones_from_the_primary_template(pilot_light):
    instances = only(pilot_light, "aws:ec2/instance:Instance")
    template = next(t for t in only(pilot_light, "aws:ec2/launchTemplate:LaunchTemplate") if t.region == PRIMARY)
    zones = Counter(i.inputs["availabilityZone"] for i in instances)
    assert zones == {f"{PRIMARY}a": 2, f"{PRIMARY}b": 1}, f"instances not spread round-robin: {zones}"
    for instance in instances:
        assert instance.region == PRIMARY, f"{instance.urn}: in {instance.region}"
        assert instance.inputs["launchTemplate"]["id"] == template.id, f"{instance.urn}: other template"
        assert instance.inputs["tags"]["chaos-opt-in"] == "true", f"{instance.urn}: not opted in"


def test_pilot_light_keeps_dr_compute_at_zero_with_room_to_scale(pilot_light):
    [group] = only(pilot_light, "aws:autoscaling/group:Group")
    template = next(t for t in only(pilot_light, "aws:ec2/launchTemplate:LaunchTemplate") if t.region == DR)
    assert group.region == DR, f"{group.urn}: in {group.region}"
    assert (group.inputs["desiredCapacity"], group.inputs["minSize"]) == (0, 0), f"{group.urn}: DR compute running"
    assert group.inputs["maxSize"] == 3, f"{group.urn}: cannot scale to the primary's size"
    assert group.inputs["launchTemplate"]["id"] == template.id, f"{group.urn}: not on the DR template"
    assert sorted(group.inputs["availabilityZones"]) == [f"{DR}a", f"{DR}b"], group.urn


def test_warm_standby_runs_its_dr_capacity():
    [group] = evaluate(dr_capacity=1).of_type("aws:autoscaling/group:Group")
    assert group.inputs["desiredCapacity"] == 1, f"{group.urn}: warm standby not running"


def test_dlm_snapshots_tagged_volumes_and_copies_them_encrypted_to_dr(pilot_light):
    [policy] = only(pilot_light, "aws:dlm/lifecyclePolicy:LifecyclePolicy")
    [key] = only(pilot_light, "aws:kms/key:Key")
    details = policy.inputs["policyDetails"]
    assert policy.inputs["state"] == "ENABLED", policy.urn
    assert details["resourceTypes"] == ["VOLUME"], policy.urn
    assert details["targetTags"] == {"dlm-snapshots": "compute"}, f"{policy.urn}: {details['targetTags']}"
    assert key.region == DR, f"{key.urn}: copy key not in the DR region"
    by_name = {s["name"]: s for s in details["schedules"]}
    assert set(by_name) == {"every-12h", "daily"}, policy.urn
    for spec in SCHEDULES:
        schedule = by_name[spec.name]
        assert schedule["createRule"]["interval"] == spec.interval_hours, policy.urn
        assert schedule["retainRule"]["count"] == spec.retain_count, policy.urn
        [copy] = schedule["crossRegionCopyRules"]
        assert copy["target"] == DR, f"{policy.urn}: copies to {copy['target']}"
        assert copy["encrypted"] is True and copy["cmkArn"] == key.outputs["arn"], f"{policy.urn}: unencrypted copy"
        assert copy["retainRule"] == {"interval": spec.dr_retain_days, "intervalUnit": "DAYS"}, policy.urn


def test_dlm_role_has_the_service_policy_and_only_the_copy_key(pilot_light):
    [policy] = only(pilot_light, "aws:dlm/lifecyclePolicy:LifecyclePolicy")
    role = next(r for r in only(pilot_light, "aws:iam/role:Role") if r.name == "compute-dlm-role")
    [key] = only(pilot_light, "aws:kms/key:Key")
    assert policy.inputs["executionRoleArn"] == role.outputs["arn"], policy.urn
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "dlm.amazonaws.com"}, role.urn
    attachments = [a.inputs["policyArn"] for a in only(pilot_light, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")]
    assert attachments == [DLM_SERVICE_ROLE_POLICY], role.urn
    [inline] = only(pilot_light, "aws:iam/rolePolicy:RolePolicy")
    for statement in json.loads(inline.inputs["policy"])["Statement"]:
        assert statement["Resource"] == key.outputs["arn"], f"{inline.urn}: KMS access beyond the copy key"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"instance_count": 0}, "instance_count"),
        ({"dr_capacity": -1}, "dr_capacity"),
        ({"primary_zones": [f"{DR}a"]}, "primary_zones"),
        ({"dr_zones": []}, "primary_zones/dr_zones"),
        ({"schedules": []}, "schedules"),
        ({"schedules": [SnapshotScheduleSpec("odd", 5, 7, 7)]}, r"schedules\[odd\].interval_hours"),
        ({"schedules": [SnapshotScheduleSpec("many", 24, 0, 7)]}, r"schedules\[many\].retain_count"),
        ({"schedules": [SnapshotScheduleSpec("s", 24, 7, 0)]}, r"schedules\[s\].dr_retain_days"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(overrides, field):
    with pytest.raises(ComputePolicyError, match=field):
        validate_compute_args(compute_args({PRIMARY: object(), DR: object()}, **overrides))
