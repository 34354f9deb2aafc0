"""Game-day tooling for staging: AWS FIS experiment templates and the two IAM roles around them.

Experiment templates (all in the primary region, each stopped by a CloudWatch alarm that leaves
out the replication-latency alarms a pause trips on purpose, each selecting its targets by the
chaos opt-in tag so only resources that opted in can be hit; subnets are not ours to tag, so the
network template names the configured subnet of the outage zone by ARN):

=========================  =============================================  =========================
key                        FIS action                                     targets
=========================  =============================================  =========================
rds-reboot-failover        aws:rds:reboot-db-instances (forceFailover)    tagged DB instances
ec2-stop-az                aws:ec2:stop-instances                         tagged, running, in zone
network-disrupt-subnet     aws:network:disrupt-connectivity (scope all)   the stack's subnet in zone
dynamodb-pause-replication aws:dynamodb:global-table-pause-replication   tagged global tables
s3-pause-replication       aws:s3:bucket-pause-replication (to DR)        tagged source buckets
=========================  =============================================  =========================

Roles:

* ``fis_role`` — assumed by FIS; exactly the permissions those five actions document, scoped to
  resources carrying the opt-in tag where the service supports tag conditions (RDS, EC2) and to
  the named tables and buckets where it does not (DynamoDB resource policies, S3 replication).
* ``chaos_role`` — assumed by the chaos harness (``python -m chaos gameday --target aws``); only
  the calls its faults, runbooks, canaries and probes make (read off ``chaos/``): RDS
  reboot/promote/restore/describe and the RDS-managed master secret, DynamoDB
  put/get/query/describe, the data-loss deletions and the point-in-time restore on the named
  tables, S3 put/get/list/delete and delete-marker removal on the named buckets, Route 53 record
  change (public and private zone) and GetChange, health-check status, TestDNSAnswer, and FIS
  start/tag/stop/get experiment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pulumi
import pulumi_aws as aws

from infra.components import iam
from infra.components.regions import check_two_regions
from infra.naming import CHAOS_OPT_IN_TAG, CHAOS_OPT_IN_VALUE

RDS_REBOOT = "rds-reboot-failover"
EC2_STOP_AZ = "ec2-stop-az"
NETWORK_DISRUPT = "network-disrupt-subnet"
DYNAMODB_PAUSE = "dynamodb-pause-replication"
S3_PAUSE = "s3-pause-replication"
ALL_EXPERIMENTS: tuple[str, ...] = (RDS_REBOOT, EC2_STOP_AZ, NETWORK_DISRUPT, DYNAMODB_PAUSE, S3_PAUSE)

_ISO_DURATION = re.compile(r"^PT(\d+H)?(\d+M)?(\d+S)?$")


class GameDayPolicyError(ValueError):
    """A game-day setting FIS would reject or that would widen the blast radius; one line."""


@dataclass
class GameDayArgs:
    """Inputs of :class:`GameDay`."""

    primary_region: str
    """Region where the experiments run (the region whose failure they rehearse)."""
    dr_region: str
    """Destination region of the paused replication; the chaos role also acts here."""
    providers: Mapping[str, aws.Provider]
    """One provider per region name; must contain both regions."""
    stop_condition_alarm_arn: pulumi.Input[str]
    """CloudWatch alarm in the primary region that stops every experiment when it fires
    (Monitoring's guardrail alarm)."""
    az_outage_zone: str
    """The availability zone the EC2-stop and subnet-disruption experiments take out."""
    chaos_tag_key: str = CHAOS_OPT_IN_TAG
    """Key of the opt-in tag (see ``chaos_tag_value``)."""
    chaos_tag_value: str = CHAOS_OPT_IN_VALUE
    """Only resources tagged ``chaos_tag_key = chaos_tag_value`` are ever targeted."""
    experiments: Sequence[str] = ALL_EXPERIMENTS
    """Which templates to declare (a backup-restore stack has no replication to pause)."""
    fault_duration: str = "PT10M"
    """ISO-8601 duration of the timed faults (network, replication pauses, EC2 restart)."""
    dynamodb_table_names: Sequence[pulumi.Input[str]] = ()
    """Tables the chaos role may use and the FIS role may pause (restored copies share the prefix)."""
    s3_bucket_names: Sequence[pulumi.Input[str]] = ()
    """Source buckets the chaos role may use and the FIS role may pause."""
    hosted_zone_id: pulumi.Input[str] | None = None
    """Zone whose failover records the chaos role may change; ``None``: no record changes."""
    private_zone_id: pulumi.Input[str] | None = None
    """Private zone whose data-store records the regional runbook repoints after a promotion."""
    disrupted_subnet_ids: Sequence[pulumi.Input[str]] = ()
    """The stack's subnets in ``az_outage_zone`` (from config) the network experiment cuts off."""
    runner_principal_arns: Sequence[pulumi.Input[str]] = ()
    """Who may assume the chaos role; empty means any principal of this account allowed by IAM."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable child."""


def validate_game_day_args(args: GameDayArgs) -> None:
    """Refuse templates FIS would reject or that could hit more than intended."""
    check_two_regions("GameDayArgs", args.primary_region, args.dr_region, args.providers, GameDayPolicyError)
    unknown = set(args.experiments) - set(ALL_EXPERIMENTS)
    if unknown:
        raise GameDayPolicyError(f"GameDayArgs.experiments: unknown {sorted(unknown)}; choose from {ALL_EXPERIMENTS}")
    if not args.az_outage_zone.startswith(args.primary_region):
        raise GameDayPolicyError(
            f"GameDayArgs.az_outage_zone: {args.az_outage_zone} is not a zone of {args.primary_region}"
        )
    if not _ISO_DURATION.match(args.fault_duration) or args.fault_duration == "PT":
        raise GameDayPolicyError(f"GameDayArgs.fault_duration: {args.fault_duration!r} is not like PT10M")
    if not args.chaos_tag_key or not args.chaos_tag_value:
        raise GameDayPolicyError("GameDayArgs.chaos_tag_key/value: an empty opt-in tag would target everything")
    if DYNAMODB_PAUSE in args.experiments and not args.dynamodb_table_names:
        raise GameDayPolicyError(f"GameDayArgs.dynamodb_table_names: {DYNAMODB_PAUSE} needs the global tables")
    if NETWORK_DISRUPT in args.experiments and not args.disrupted_subnet_ids:
        raise GameDayPolicyError(f"GameDayArgs.disrupted_subnet_ids: {NETWORK_DISRUPT} needs the subnet of "
                                 f"{args.az_outage_zone} (an empty target fails the experiment)")
    if S3_PAUSE in args.experiments and not args.s3_bucket_names:
        raise GameDayPolicyError(f"GameDayArgs.s3_bucket_names: {S3_PAUSE} needs the replicated buckets")


class GameDay(pulumi.ComponentResource):
    """FIS experiment templates for staging plus the FIS and chaos-runner roles."""

    fis_role: aws.iam.Role
    chaos_role: aws.iam.Role
    fis_templates: dict[str, aws.fis.ExperimentTemplate]
    """Keyed by experiment name (:data:`ALL_EXPERIMENTS`)."""

    def __init__(self, name: str, args: GameDayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("securecart:gameday:GameDay", name, None, opts)
        validate_game_day_args(args)
        self._name = name
        self._args = args
        self._tags = dict(args.tags)
        # Every ARN in the account carries its id as the fifth field; the stop alarm's is at hand.
        self._account_id = pulumi.Output.from_input(args.stop_condition_alarm_arn).apply(
            lambda arn: arn.split(":")[4]
        )
        self._table_arns = [
            pulumi.Output.concat("arn:aws:dynamodb:*:", self._account_id, ":table/", table)
            for table in args.dynamodb_table_names
        ]
        self._bucket_arns = [pulumi.Output.concat("arn:aws:s3:::", bucket) for bucket in args.s3_bucket_names]

        self.fis_role = self._fis_role()
        builders = {
            RDS_REBOOT: self._rds_reboot,
            EC2_STOP_AZ: self._ec2_stop_az,
            NETWORK_DISRUPT: self._network_disrupt,
            DYNAMODB_PAUSE: self._dynamodb_pause,
            S3_PAUSE: self._s3_pause,
        }
        self.fis_templates = {key: builders[key]() for key in ALL_EXPERIMENTS if key in args.experiments}
        # After the templates: the chaos role may start exactly these templates, by ARN.
        self.chaos_role = self._chaos_role()

        self.register_outputs(
            {
                "fis_role_arn": self.fis_role.arn,
                "chaos_role_arn": self.chaos_role.arn,
                "fis_template_ids": {key: template.id for key, template in self.fis_templates.items()},
            }
        )

    # ----- shared pieces ------------------------------------------------------------------------

    def _opts(self) -> pulumi.ResourceOptions:
        # Everything here lives in the primary region: FIS is regional and IAM is global.
        return pulumi.ResourceOptions(parent=self, provider=self._args.providers[self._args.primary_region])

    def _opt_in(self) -> dict[str, dict[str, str]]:
        """IAM condition: the resource carries the chaos opt-in tag."""
        return {"StringEquals": {f"aws:ResourceTag/{self._args.chaos_tag_key}": self._args.chaos_tag_value}}

    def _template(
        self,
        key: str,
        description: str,
        action_id: str,
        target_key: str,
        target: tuple[str, str],
        parameters: Mapping[str, str],
        filters: Mapping[str, str] | None = None,
        resource_arns: Sequence[pulumi.Input[str]] | None = None,
    ) -> aws.fis.ExperimentTemplate:
        """One template: `action_id` on every resource of type `target` = (name, FIS resource type)
        that carries the opt-in tag and matches `filters` (path -> value), or on `resource_arns`."""
        target_name, resource_type = target
        selection: dict = (
            {"resource_arns": list(resource_arns)} if resource_arns else
            {"resource_tags": [aws.fis.ExperimentTemplateTargetResourceTagArgs(
                key=self._args.chaos_tag_key, value=self._args.chaos_tag_value)]}
        )
        return aws.fis.ExperimentTemplate(
            f"{self._name}-{key}",
            description=description,
            role_arn=self.fis_role.arn,
            stop_conditions=[
                aws.fis.ExperimentTemplateStopConditionArgs(
                    source="aws:cloudwatch:alarm", value=self._args.stop_condition_alarm_arn
                )
            ],
            # Targets are selected by the opt-in tag, or (subnets, which are not ours to tag) by the
            # ARNs the stack's config names: nothing else can be hit.
            targets=[
                aws.fis.ExperimentTemplateTargetArgs(
                    name=target_name,
                    resource_type=resource_type,
                    selection_mode="ALL",
                    **selection,
                    filters=[
                        aws.fis.ExperimentTemplateTargetFilterArgs(path=path, values=[value])
                        for path, value in (filters or {}).items()
                    ]
                    or None,
                )
            ],
            actions=[
                aws.fis.ExperimentTemplateActionArgs(
                    name=key.replace("-", "_"),
                    action_id=action_id,
                    target=aws.fis.ExperimentTemplateActionTargetArgs(key=target_key, value=target_name),
                    parameters=[aws.fis.ExperimentTemplateActionParameterArgs(key=k, value=v) for k, v in parameters.items()],
                )
            ],
            # An experiment whose tag selects nothing must fail loudly, not "succeed" doing nothing.
            experiment_options=aws.fis.ExperimentTemplateExperimentOptionsArgs(
                account_targeting="single-account", empty_target_resolution_mode="fail"
            ),
            tags={**self._tags, "Name": f"{self._name}-{key}", "experiment": key},
            opts=self._opts(),
        )

    # ----- experiment templates -----------------------------------------------------------------

    def _rds_reboot(self) -> aws.fis.ExperimentTemplate:
        return self._template(
            RDS_REBOOT,
            "Reboot opted-in RDS instances with a forced Multi-AZ failover",
            "aws:rds:reboot-db-instances",
            "DBInstances",
            ("db_instances", "aws:rds:db"),
            {"forceFailover": "true"},
        )

    def _ec2_stop_az(self) -> aws.fis.ExperimentTemplate:
        zone, duration = self._args.az_outage_zone, self._args.fault_duration
        return self._template(
            EC2_STOP_AZ,
            f"Stop every opted-in running instance in {zone}, restart after {duration}",
            "aws:ec2:stop-instances",
            "Instances",
            ("instances_in_zone", "aws:ec2:instance"),
            {"startInstancesAfterDuration": duration},
            filters={"Placement.AvailabilityZone": zone, "State.Name": "running"},
        )

    def _network_disrupt(self) -> aws.fis.ExperimentTemplate:
        zone, duration = self._args.az_outage_zone, self._args.fault_duration
        return self._template(
            NETWORK_DISRUPT,
            f"Cut all traffic of the opted-in subnets in {zone} for {duration}",
            "aws:network:disrupt-connectivity",
            "Subnets",
            ("subnets_in_zone", "aws:ec2:subnet"),
            {"duration": duration, "scope": "all"},
            resource_arns=[pulumi.Output.concat("arn:aws:ec2:", self._args.primary_region, ":", self._account_id,
                                                ":subnet/", subnet) for subnet in self._args.disrupted_subnet_ids],
        )

    def _dynamodb_pause(self) -> aws.fis.ExperimentTemplate:
        return self._template(
            DYNAMODB_PAUSE,
            f"Pause replication of the opted-in DynamoDB global tables for {self._args.fault_duration}",
            "aws:dynamodb:global-table-pause-replication",
            "Tables",
            ("global_tables", "aws:dynamodb:global-table"),
            {"duration": self._args.fault_duration},
        )

    def _s3_pause(self) -> aws.fis.ExperimentTemplate:
        return self._template(
            S3_PAUSE,
            f"Pause replication of the opted-in buckets to {self._args.dr_region} for {self._args.fault_duration}",
            "aws:s3:bucket-pause-replication",
            "Buckets",
            ("buckets", "aws:s3:bucket"),
            {"duration": self._args.fault_duration, "region": self._args.dr_region},
        )

    # ----- roles -------------------------------------------------------------------------------

    def _fis_role(self) -> aws.iam.Role:
        args = self._args
        region = args.primary_region
        account = self._account_id
        experiments = set(args.experiments)
        statements: list[dict] = [
            # FIS resolves targets by tag through the Resource Groups Tagging API (no resource scope).
            iam.statement(["tag:GetResources"], "*"),
        ]
        if RDS_REBOOT in experiments:
            statements += [
                iam.statement(["rds:DescribeDBInstances"], "*"),
                iam.statement(
                    ["rds:RebootDBInstance"],
                    pulumi.Output.concat("arn:aws:rds:", region, ":", account, ":db:*"),
                    self._opt_in(),
                ),
            ]
        if EC2_STOP_AZ in experiments:
            statements += [
                iam.statement(["ec2:DescribeInstances"], "*"),
                iam.statement(
                    ["ec2:StopInstances", "ec2:StartInstances"],
                    pulumi.Output.concat("arn:aws:ec2:", region, ":", account, ":instance/*"),
                    self._opt_in(),
                ),
                # Restarting instances with encrypted volumes needs a grant on the EBS key.
                iam.statement(["kms:CreateGrant"], "*", {"Bool": {"kms:GrantIsForAWSResource": "true"}}),
            ]
        if NETWORK_DISRUPT in experiments:
            statements += [
                iam.statement(
                    ["ec2:DescribeNetworkAcls", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                     "ec2:DescribeManagedPrefixLists", "ec2:GetManagedPrefixListEntries"],
                    "*",
                ),
                # FIS builds a deny-all network ACL in the subnet's VPC, swaps it in, and swaps the
                # original back; ACL creation cannot be scoped by the subnet's tag, the swap can.
                iam.statement(
                    ["ec2:CreateNetworkAcl", "ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl", "ec2:CreateTags"],
                    [
                        pulumi.Output.concat("arn:aws:ec2:", region, ":", account, ":network-acl/*"),
                        pulumi.Output.concat("arn:aws:ec2:", region, ":", account, ":vpc/*"),
                    ],
                ),
                iam.statement(
                    ["ec2:ReplaceNetworkAclAssociation"],
                    [
                        pulumi.Output.concat("arn:aws:ec2:", region, ":", account, ":network-acl/*"),
                        pulumi.Output.concat("arn:aws:ec2:", region, ":", account, ":subnet/*"),
                    ],
                ),
            ]
        if DYNAMODB_PAUSE in experiments:
            # The pause is a temporary resource policy on each replica, so it covers every region.
            statements.append(
                iam.statement(
                    ["dynamodb:DescribeTable", "dynamodb:GetResourcePolicy", "dynamodb:PutResourcePolicy",
                     "dynamodb:DeleteResourcePolicy"],
                    self._table_arns,
                )
            )
        if S3_PAUSE in experiments:
            statements += [
                iam.statement(["s3:ListAllMyBuckets"], "*"),
                iam.statement(
                    ["s3:GetReplicationConfiguration", "s3:PutReplicationConfiguration"],
                    self._bucket_arns,
                    {"BoolIfExists": {"s3:isReplicationPauseRequest": "true"}},
                ),
                iam.statement(
                    ["s3:PauseReplication"],
                    self._bucket_arns,
                    {"StringEquals": {"s3:DestinationRegion": args.dr_region}},
                ),
            ]
        return iam.role(
            f"{self._name}-fis-role",
            trusted=iam.service("fis.amazonaws.com"),
            condition={"StringEquals": {"aws:SourceAccount": account}},  # FIS of this account only
            description="Assumed by AWS FIS for SecureCart staging game days",
            inline_policy=iam.policy_document(statements),
            inline_policy_name=f"{self._name}-fis-role-actions",
            tags=self._tags,
            opts=self._opts(),
        )

    def _chaos_role(self) -> aws.iam.Role:
        args = self._args
        account = self._account_id
        principals: Any = list(args.runner_principal_arns) or pulumi.Output.concat("arn:aws:iam::", account, ":root")

        def rds(kind: str) -> pulumi.Output[str]:
            return pulumi.Output.concat("arn:aws:rds:*:", account, f":{kind}:*")

        statements: list[dict] = [
            iam.statement(["rds:DescribeDBInstances"], "*"),
            iam.statement(["rds:RebootDBInstance", "rds:PromoteReadReplica"], rds("db"), self._opt_in()),
            # A point-in-time restore creates a new instance, which has no tag yet to match, and
            # reads the source's subnet, option and parameter groups.
            iam.statement(
                ["rds:RestoreDBInstanceToPointInTime", "rds:AddTagsToResource"],
                [rds("db"), rds("subgrp"), rds("og"), rds("pg")],
            ),
            # The orders canary logs in with the master secret RDS manages (named "rds!db-...").
            iam.statement(
                ["secretsmanager:GetSecretValue"],
                pulumi.Output.concat("arn:aws:secretsmanager:*:", account, ":secret:rds!*"),
            ),
        ]
        if self._table_arns:
            # The tables, their indexes, and restored copies named "<table>-<suffix>".
            tables = [
                pattern
                for arn in self._table_arns
                for pattern in (arn, pulumi.Output.concat(arn, "/index/*"), pulumi.Output.concat(arn, "-*"))
            ]
            statements += [
                iam.statement(
                    ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable",
                     "dynamodb:DescribeContinuousBackups"],
                    tables,
                ),
                # Data-loss faults: delete the canary's items or the whole table (after lifting
                # deletion protection); the restore runbook brings it back into a new table.
                iam.statement(
                    ["dynamodb:BatchWriteItem", "dynamodb:UpdateTable", "dynamodb:DeleteTable",
                     "dynamodb:RestoreTableToPointInTime"],
                    tables,
                ),
            ]
        if self._bucket_arns:
            objects = [pulumi.Output.concat(arn, "/*") for arn in self._bucket_arns]
            statements += [
                iam.statement(["s3:ListBucket", "s3:ListBucketVersions"], self._bucket_arns),
                # Removing a delete marker is deleting that marker's version.
                # DeleteObject for the data-loss fault (it only adds delete markers on versioned
                # buckets); DeleteObjectVersion to remove those markers in the restore runbook.
                iam.statement(
                    ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject",
                     "s3:DeleteObjectVersion"],
                    objects,
                ),
            ]
        zones = [z for z in (args.hosted_zone_id, args.private_zone_id) if z is not None]
        if zones:
            statements += [
                iam.statement(
                    ["route53:ChangeResourceRecordSets"],
                    [pulumi.Output.concat("arn:aws:route53:::hostedzone/", zone) for zone in zones],
                ),
                # The runbook waits for its record change to reach every Route 53 server (INSYNC).
                iam.statement(["route53:GetChange"], "arn:aws:route53:::change/*"),
            ]
        statements += [
            iam.statement(["route53:GetHealthCheckStatus"], "arn:aws:route53:::healthcheck/*"),
            # TestDNSAnswer has no resource-level permissions.
            iam.statement(["route53:TestDNSAnswer"], "*"),
        ]
        if self.fis_templates:
            experiment_arn = pulumi.Output.concat("arn:aws:fis:", args.primary_region, ":", account, ":experiment/*")
            template_arns = [
                pulumi.Output.concat("arn:aws:fis:", args.primary_region, ":", account, ":experiment-template/", t.id)
                for t in self.fis_templates.values()
            ]
            statements += [
                # StartExperiment is authorised on the template and on the experiment it creates;
                # the harness tags each experiment with the fault it plays (TagResource).
                iam.statement(["fis:StartExperiment"], [*template_arns, experiment_arn]),
                iam.statement(["fis:TagResource"], experiment_arn),
                iam.statement(["fis:StopExperiment", "fis:GetExperiment"], experiment_arn),
            ]
        return iam.role(
            f"{self._name}-chaos-role",
            trusted={"AWS": principals},
            description="Assumed by the SecureCart chaos harness during staging game days",
            max_session_duration=3600 * 4,
            inline_policy=iam.policy_document(statements),
            inline_policy_name=f"{self._name}-chaos-role-actions",
            tags=self._tags,
            opts=self._opts(),
        )
