"""The compute tier (EC2 + EBS) and its snapshot lifecycle.

* A launch template per region (encrypted gp3 root volume, IMDSv2 only, the application image
  and boot script from config, the configured security groups), so the DR region boots exactly
  the machine the primary runs: the image comes from an SSM parameter the image pipeline writes
  in each region (read per region: AMI ids differ) or from per-region AMI ids.
* Primary region: ``instance_count`` instances spread over ``primary_zones``.
* DR region: an Auto Scaling group on the DR launch template whose desired capacity is the
  strategy's ``dr_capacity`` — 0 for pilot-light (compute scaled to zero, only the template and
  the snapshot copies wait there), more for warm-standby/active-active. Runbooks scale it out.
* A Data Lifecycle Manager policy snapshots every volume carrying ``target_tags`` on the given
  schedules, keeps ``retain_count`` snapshots, and copies each one, encrypted with a DR-region
  KMS key, to the DR region for ``dr_retain_days``. Restoring from them (region loss with local
  state on the volumes): `CreateVolume` from the newest copy in the DR region, in the zone of the
  DR instance, and attach it; or register the root-volume copy as an AMI. A stateless tier needs
  neither: the DR group boots the image and user data.

Networking: instances and the DR group use the configured private subnets (no public IPv4) and
the configured security groups; only the lab and localstack stacks use the default VPC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import base64

import pulumi
import pulumi_aws as aws

from infra.components import iam
from infra.components.kms import regional_key
from infra.components.regions import check_two_regions
from infra.naming import BACKUP_TIER_TAG

#: Public SSM parameter naming the current Amazon Linux 2023 AMI in every region.
DEFAULT_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
#: DLM accepts only these hourly intervals for a schedule.
DLM_INTERVAL_HOURS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 24)
DLM_MAX_SCHEDULES = 4
DLM_SERVICE_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole"


class ComputePolicyError(ValueError):
    """A compute or snapshot setting AWS would reject; the message is one line."""


@dataclass(frozen=True)
class SnapshotScheduleSpec:
    """One DLM schedule: how often, how many to keep here, how long the DR copy lives."""

    name: str
    """Schedule name, e.g. ``hourly`` or ``daily``."""
    interval_hours: int
    """One of 1, 2, 3, 4, 6, 8, 12, 24."""
    retain_count: int
    """Snapshots kept in the primary region (1..1000)."""
    dr_retain_days: int
    """Days each encrypted cross-region copy is kept in the DR region."""
    start_time_utc: str = "03:00"
    """First snapshot of the day, ``HH:MM`` UTC."""


@dataclass
class ComputeTierArgs:
    """Inputs of :class:`ComputeTier`."""

    workload: str
    """Workload name (``compute``); tags and names use it."""
    primary_region: str
    """Region of the running instances and of the DLM policy."""
    dr_region: str
    """Region of the standby Auto Scaling group and of the snapshot copies."""
    providers: Mapping[str, aws.Provider]
    """One provider per region name; must contain both regions."""
    primary_zones: Sequence[str]
    """Availability zones of the primary instances (instances are spread round-robin)."""
    dr_zones: Sequence[str]
    """Availability zones the DR Auto Scaling group may launch into."""
    instance_count: int
    """Instances running in the primary region (>= 1)."""
    dr_capacity: int
    """Desired capacity of the DR group: 0 for pilot-light."""
    schedules: Sequence[SnapshotScheduleSpec]
    """DLM schedules (1..4)."""
    instance_type: str = "t3.micro"
    """Instance type in both regions (the DR region boots the same launch template)."""
    root_volume_gib: int = 16
    """Size of the encrypted gp3 root volume."""
    target_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags that put a volume under the DLM policy; default ``{"dlm-snapshots": <workload>}``."""
    instance_tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags for instances and volumes (e.g. the chaos opt-in and ``backup-tier``)."""
    subnet_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Zone name -> private subnet id (both regions' zones); zones without one use the default VPC."""
    security_group_ids: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Region -> security groups of the instances; empty: the default VPC's default group."""
    ami_parameter: str | None = DEFAULT_AMI_PARAMETER
    """SSM parameter naming the AMI (e.g. written by an image pipeline); read in each region."""
    ami_ids: Mapping[str, str] | None = None
    """Region -> AMI id, instead of ``ami_parameter``."""
    user_data: str | None = None
    """Boot script of both regions' launch templates."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable child."""


def validate_compute_args(args: ComputeTierArgs) -> None:
    """Refuse settings EC2, Auto Scaling or DLM would reject; one line naming the field."""
    check_two_regions("ComputeTierArgs", args.primary_region, args.dr_region, args.providers, ComputePolicyError)
    if args.instance_count < 1:
        raise ComputePolicyError("ComputeTierArgs.instance_count: must be >= 1")
    if args.dr_capacity < 0:
        raise ComputePolicyError("ComputeTierArgs.dr_capacity: must be >= 0 (0 = pilot-light)")
    if not args.primary_zones or not args.dr_zones:
        raise ComputePolicyError("ComputeTierArgs.primary_zones/dr_zones: name at least one zone each")
    for zone in args.primary_zones:
        if not zone.startswith(args.primary_region):
            raise ComputePolicyError(f"ComputeTierArgs.primary_zones: {zone} is not in {args.primary_region}")
    for zone in args.dr_zones:
        if not zone.startswith(args.dr_region):
            raise ComputePolicyError(f"ComputeTierArgs.dr_zones: {zone} is not in {args.dr_region}")
    if not 1 <= len(args.schedules) <= DLM_MAX_SCHEDULES:
        raise ComputePolicyError(f"ComputeTierArgs.schedules: DLM takes 1..{DLM_MAX_SCHEDULES} schedules")
    for schedule in args.schedules:
        where = f"ComputeTierArgs.schedules[{schedule.name}]"
        if schedule.interval_hours not in DLM_INTERVAL_HOURS:
            raise ComputePolicyError(f"{where}.interval_hours: must be one of {DLM_INTERVAL_HOURS}")
        if not 1 <= schedule.retain_count <= 1000:
            raise ComputePolicyError(f"{where}.retain_count: must be 1..1000")
        if schedule.dr_retain_days < 1:
            raise ComputePolicyError(f"{where}.dr_retain_days: must be >= 1")


class ComputeTier(pulumi.ComponentResource):
    """EC2 instances in the primary region, DR capacity on standby, EBS snapshots copied to DR."""

    launch_templates: dict[str, aws.ec2.LaunchTemplate]
    instances: dict[str, aws.ec2.Instance]
    """Primary instances keyed ``<zone>-<n>``."""
    instance_zones: dict[str, str]
    """Same keys as :attr:`instances`: the zone each one runs in."""
    dr_group: aws.autoscaling.Group
    dr_capacity: int
    snapshot_copy_key: aws.kms.Key
    dlm_role: aws.iam.Role
    dlm_policy: aws.dlm.LifecyclePolicy

    def __init__(self, name: str, args: ComputeTierArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("securecart:ebs:ComputeTier", name, None, opts)
        validate_compute_args(args)
        self._name = name
        self._args = args
        self.dr_capacity = args.dr_capacity
        tags = dict(args.tags)
        target_tags = dict(args.target_tags) or {"dlm-snapshots": args.workload}
        machine_tags = {**tags, **args.instance_tags, **target_tags, "workload": args.workload}
        # AWS Backup protects the instance (which includes its volumes): volumes carry no tier tag,
        # or AWS Backup would back them up a second time.
        volume_tags = {k: v for k, v in machine_tags.items() if k != BACKUP_TIER_TAG}

        self.launch_templates = {
            region: self._launch_template(region, machine_tags, volume_tags)
            for region in (args.primary_region, args.dr_region)
        }

        self.instances, self.instance_zones = {}, {}
        for index in range(args.instance_count):
            zone = args.primary_zones[index % len(args.primary_zones)]
            key = f"{zone}-{index}"
            self.instances[key] = aws.ec2.Instance(
                f"{name}-instance-{key}",
                launch_template=aws.ec2.InstanceLaunchTemplateArgs(
                    id=self.launch_templates[args.primary_region].id, version="$Latest"
                ),
                availability_zone=zone,
                subnet_id=args.subnet_ids.get(zone),
                associate_public_ip_address=False if args.subnet_ids else None,
                tags={**machine_tags, "Name": f"{name}-{key}", "role": "primary"},
                opts=self._in(args.primary_region),
            )
            self.instance_zones[key] = zone

        self.dr_group = self._dr_group(machine_tags)
        self.snapshot_copy_key = regional_key(
            f"{name}-snapshot-copy-key-{args.dr_region}",
            f"{args.workload} EBS snapshot copies in {args.dr_region}",
            tags,
            self._in(args.dr_region),
        )
        self.dlm_role = self._dlm_role(tags)
        self.dlm_policy = self._dlm_policy(target_tags, tags)

        self.register_outputs(
            {
                "instance_ids": {key: instance.id for key, instance in self.instances.items()},
                "dr_group_name": self.dr_group.name,
                "dr_capacity": self.dr_capacity,
                "dlm_policy_id": self.dlm_policy.id,
            }
        )

    def _in(self, region: str, **extra) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.providers[region], **extra)

    def _image(self, region: str) -> pulumi.Input[str]:
        if self._args.ami_ids:
            return self._args.ami_ids[region]
        # The data look-up runs against this region's provider: AMI ids differ per region.
        return aws.ssm.get_parameter_output(
            name=self._args.ami_parameter,
            opts=pulumi.InvokeOutputOptions(parent=self, provider=self._args.providers[region]),
        ).value

    def _launch_template(self, region: str, machine_tags: dict[str, str],
                         volume_tags: dict[str, str]) -> aws.ec2.LaunchTemplate:
        user_data = self._args.user_data
        return aws.ec2.LaunchTemplate(
            f"{self._name}-launch-template-{region}",
            description=f"{self._args.workload} compute tier",
            image_id=self._image(region),
            instance_type=self._args.instance_type,
            user_data=base64.b64encode(user_data.encode()).decode() if user_data else None,
            vpc_security_group_ids=list(self._args.security_group_ids.get(region, ())) or None,
            update_default_version=True,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=self._args.root_volume_gib,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            # Volumes get the DLM target tags at launch, so every instance's disk is snapshotted.
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type="instance", tags=machine_tags),
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type="volume", tags=volume_tags),
            ],
            tags=dict(self._args.tags),
            opts=self._in(region),
        )

    def _dr_group(self, machine_tags: dict[str, str]) -> aws.autoscaling.Group:
        args = self._args
        return aws.autoscaling.Group(
            f"{self._name}-dr-group",
            availability_zones=None if args.subnet_ids else list(args.dr_zones),
            vpc_zone_identifiers=[args.subnet_ids[z] for z in args.dr_zones if z in args.subnet_ids] or None,
            desired_capacity=args.dr_capacity,
            min_size=args.dr_capacity,
            # Room for a failover runbook to scale the DR region up to the primary's size.
            max_size=max(args.dr_capacity, args.instance_count),
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=self.launch_templates[args.dr_region].id, version="$Latest"
            ),
            tags=[
                aws.autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=True)
                for key, value in {**machine_tags, "role": "dr"}.items()
            ],
            opts=self._in(args.dr_region),
        )

    def _dlm_role(self, tags: dict[str, str]) -> aws.iam.Role:
        copy_key = self.snapshot_copy_key.arn
        return iam.role(
            f"{self._name}-dlm-role",
            trusted=iam.service("dlm.amazonaws.com"),
            description=f"Data Lifecycle Manager for {self._args.workload} EBS snapshots",
            managed_policies={"service": DLM_SERVICE_ROLE_POLICY},
            # The managed policy covers snapshots but not a customer key: encrypting the DR copies
            # with our key needs these KMS actions on exactly that key.
            inline_policy=iam.policy_document(
                [
                    iam.statement(
                        ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                        copy_key,
                    ),
                    iam.statement("kms:CreateGrant", copy_key, condition={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
                ]
            ),
            inline_policy_name=f"{self._name}-dlm-role-copy-key",
            tags=tags,
            opts=self._in(self._args.primary_region),
        )

    def _dlm_policy(self, target_tags: dict[str, str], tags: dict[str, str]) -> aws.dlm.LifecyclePolicy:
        args = self._args
        schedules = [
            aws.dlm.LifecyclePolicyPolicyDetailsScheduleArgs(
                name=schedule.name,
                create_rule=aws.dlm.LifecyclePolicyPolicyDetailsScheduleCreateRuleArgs(
                    interval=schedule.interval_hours,
                    interval_unit="HOURS",
                    times=schedule.start_time_utc,
                ),
                retain_rule=aws.dlm.LifecyclePolicyPolicyDetailsScheduleRetainRuleArgs(count=schedule.retain_count),
                copy_tags=True,
                tags_to_add={"snapshot-schedule": schedule.name, "workload": args.workload},
                cross_region_copy_rules=[
                    aws.dlm.LifecyclePolicyPolicyDetailsScheduleCrossRegionCopyRuleArgs(
                        target=args.dr_region,
                        encrypted=True,
                        cmk_arn=self.snapshot_copy_key.arn,
                        copy_tags=True,
                        retain_rule=aws.dlm.LifecyclePolicyPolicyDetailsScheduleCrossRegionCopyRuleRetainRuleArgs(
                            interval=schedule.dr_retain_days, interval_unit="DAYS"
                        ),
                    )
                ],
            )
            for schedule in args.schedules
        ]
        return aws.dlm.LifecyclePolicy(
            f"{self._name}-dlm-policy",
            description=f"{args.workload} EBS snapshots with copies to {args.dr_region}",
            execution_role_arn=self.dlm_role.arn,
            state="ENABLED",
            policy_details=aws.dlm.LifecyclePolicyPolicyDetailsArgs(
                policy_type="EBS_SNAPSHOT_MANAGEMENT",
                resource_types=["VOLUME"],
                target_tags=target_tags,
                schedules=schedules,
            ),
            tags=tags,
            opts=self._in(args.primary_region),
        )
