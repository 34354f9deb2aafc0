"""The orders database: RDS PostgreSQL 15 with backups, cross-region copies and a snapshot archive.

What it declares, and why:
- a Multi-AZ primary (an AZ failure fails over within the region), automated backups kept up to
  35 days with PITR, deletion protection and a final snapshot, master password managed by RDS in
  Secrets Manager, storage encrypted with a regional KMS key;
- replication of the automated backups to the DR region, so PITR works there after a region loss;
- for pilot-light and warm-standby, a cross-region read replica (smaller instance class) that the
  runbook promotes;
- an archive of snapshot exports: a bucket (Glacier, then Deep Archive), the role RDS assumes to
  write it, a KMS grant for that role, and a scheduled export of the newest automated snapshot
  with no Lambda code to keep: EventBridge Scheduler starts a Step Functions state machine whose
  two AWS SDK tasks are `DescribeDBSnapshots` and `StartExportTask`. (`aws.rds.ExportTask` exists
  in pulumi-aws 7.51.1, but it exports one named snapshot once, at `pulumi up`; a schedule needs
  the newest snapshot each time.) Exports are Apache Parquet: an archive for compliance and
  analytics (Athena, Redshift Spectrum), not a DR copy: RDS cannot restore a database from them.

Networking: a DB subnet group of the configured private subnets and the configured security
groups in each region; only the lab and localstack stacks fall back to the default VPC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import json

import pulumi
import pulumi_aws as aws

from infra.components import iam
from infra.components.kms import regional_key
from infra.components.s3 import PrivateBucket, Transition, declare_private_bucket
from infra.config import RdsSettings, RegionNetwork
from infra.naming import BACKUP_TIER_TAG

REPLICA_BACKUP_RETENTION_DAYS = 7  # a promoted replica must already take backups
# What the export role may do with the key (RDS snapshot export documents these operations).
EXPORT_KEY_OPERATIONS = ("Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
                         "ReEncryptFrom", "ReEncryptTo", "CreateGrant", "DescribeKey", "RetireGrant")


@dataclass
class RelationalStoreArgs:
    """Inputs of one RDS workload."""

    workload: str
    """Workload name, used in names and tags."""
    identifier: str
    """Physical prefix of the DB identifiers, e.g. ``orders-prod``."""
    primary_region: str
    """Region of the Multi-AZ primary instance and the export archive."""
    dr_region: str
    """Region of the replicated automated backups and (with ``cross_region_replica``) the replica."""
    providers: Mapping[str, aws.Provider]
    """One provider per region name; must contain both regions."""
    settings: RdsSettings
    """Engine, instance classes, storage, backup windows and export archive ages."""
    cross_region_replica: bool
    """Keep a read replica in ``dr_region`` (the strategy's ``rds_cross_region_replica``)."""
    networks: Mapping[str, RegionNetwork] = field(default_factory=dict)
    """Region -> subnets and security groups; a region without subnets uses its default VPC."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable child; include ``backup-tier`` so AWS Backup selects the instance."""


class RelationalStore(pulumi.ComponentResource):
    """One PostgreSQL workload across the primary and DR regions."""

    keys: dict[str, aws.kms.Key]  # region -> storage key
    primary: aws.rds.Instance
    backups_replication: aws.rds.InstanceAutomatedBackupsReplication
    replica: aws.rds.Instance | None
    archive: PrivateBucket
    export_role: aws.iam.Role
    export_grant: aws.kms.Grant
    export_state_machine: aws.sfn.StateMachine
    export_schedule: aws.scheduler.Schedule
    subnet_groups: dict[str, aws.rds.SubnetGroup]

    def __init__(self, name: str, args: RelationalStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("securecart:rds:RelationalStore", name, None, opts)
        primary_opts = pulumi.ResourceOptions(parent=self, provider=args.providers[args.primary_region])
        dr_opts = pulumi.ResourceOptions(parent=self, provider=args.providers[args.dr_region])
        settings = args.settings
        self.keys = {
            region: regional_key(f"{name}-kms-{region}", f"{args.workload} database in {region}", args.tags, region_opts)
            for region, region_opts in ((args.primary_region, primary_opts), (args.dr_region, dr_opts))
        }

        self.subnet_groups = {
            region: aws.rds.SubnetGroup(
                f"{name}-subnets-{region}", description=f"{args.workload}: private subnets in {region}",
                subnet_ids=list(args.networks[region].subnets.values()), tags=dict(args.tags), opts=region_opts)
            for region, region_opts in ((args.primary_region, primary_opts), (args.dr_region, dr_opts))
            if region in args.networks and args.networks[region].subnets
        }

        self.primary = aws.rds.Instance(
            f"{name}-primary",
            identifier=f"{args.identifier}-primary",
            engine="postgres",
            engine_version=settings.engine_version,
            instance_class=settings.instance_class,
            allocated_storage=settings.allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=self.keys[args.primary_region].arn,
            multi_az=True,
            db_name=settings.db_name,
            username=settings.master_username,
            manage_master_user_password=True,
            backup_retention_period=settings.backup_retention_days,
            backup_window=settings.backup_window,
            maintenance_window=settings.maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{args.identifier}-final",
            delete_automated_backups=False,  # keep PITR history if the instance is ever deleted
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
            **self._placement(args, args.primary_region),
            tags=dict(args.tags),
            opts=primary_opts,
        )

        self.backups_replication = aws.rds.InstanceAutomatedBackupsReplication(
            f"{name}-backups-{args.dr_region}",
            source_db_instance_arn=self.primary.arn,
            kms_key_id=self.keys[args.dr_region].arn,
            retention_period=settings.backup_retention_days,
            opts=dr_opts,
        )

        self.replica = None
        if args.cross_region_replica:
            self.replica = aws.rds.Instance(
                f"{name}-replica-{args.dr_region}",
                identifier=f"{args.identifier}-replica-{args.dr_region}",
                # A cross-region replica names its source by ARN; engine and credentials come from it.
                replicate_source_db=self.primary.arn,
                instance_class=settings.replica_instance_class,
                storage_type="gp3",
                storage_encrypted=True,
                kms_key_id=self.keys[args.dr_region].arn,
                backup_retention_period=REPLICA_BACKUP_RETENTION_DAYS,
                copy_tags_to_snapshot=True,
                deletion_protection=True,
                skip_final_snapshot=True,  # a replica's data is the primary's; its backups start at promotion
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                **self._placement(args, args.dr_region),
                tags={**args.tags, "role": "cross-region-read-replica"},
                opts=dr_opts,
            )

        self.archive = declare_private_bucket(
            f"{name}-export-archive",
            kms_key_arn=self.keys[args.primary_region].arn,
            transitions=[
                Transition(settings.export_glacier_after_days, "GLACIER"),
                Transition(settings.export_deep_archive_after_days, "DEEP_ARCHIVE"),
            ],
            noncurrent_expire_after_days=30,
            abort_incomplete_upload_days=7,
            expire_after_days=settings.export_expire_after_days,
            # The archive is not a backup target itself: without the tier tag AWS Backup skips it.
            tags={k: v for k, v in args.tags.items() if k != BACKUP_TIER_TAG},
            opts=primary_opts,
        )
        self.export_role = self._export_role(name, args, primary_opts)
        self.export_grant = aws.kms.Grant(
            f"{name}-export-grant",
            name=f"{args.identifier}-snapshot-export",
            key_id=self.keys[args.primary_region].key_id,
            grantee_principal=self.export_role.arn,
            operations=list(EXPORT_KEY_OPERATIONS),
            opts=primary_opts,
        )
        self.export_state_machine, self.export_schedule = self._scheduled_export(name, args, primary_opts)

        self.register_outputs(
            {
                "primary_arn": self.primary.arn,
                "primary_address": self.primary.address,
                "replica_arn": self.replica.arn if self.replica else None,
                "archive_bucket": self.archive.bucket.bucket,
            }
        )

    def _placement(self, args: RelationalStoreArgs, region: str) -> dict:
        """Subnet group and security groups of `region`; nothing (the default VPC) without subnets."""
        if region not in self.subnet_groups:
            return {}
        return {"db_subnet_group_name": self.subnet_groups[region].name,
                "vpc_security_group_ids": list(args.networks[region].security_groups["database"])}

    def _scheduled_export(
        self, name: str, args: RelationalStoreArgs, opts: pulumi.ResourceOptions
    ) -> tuple[aws.sfn.StateMachine, aws.scheduler.Schedule]:
        """EventBridge Scheduler -> Step Functions: export the newest automated snapshot, no Lambda."""
        primary_id = f"{args.identifier}-primary"
        key_arn = self.keys[args.primary_region].arn
        account = self.primary.arn.apply(lambda arn: arn.split(":")[4])
        definition = pulumi.Output.all(self.archive.bucket.bucket, self.export_role.arn, key_arn).apply(
            lambda values: export_definition(primary_id, args.identifier, *values))
        snapshots = pulumi.Output.concat("arn:aws:rds:", args.primary_region, ":", account, ":snapshot:rds:",
                                         primary_id, "-*")
        machine_role = iam.role(
            f"{name}-export-machine-role",
            trusted=iam.service("states.amazonaws.com"),
            description=f"Starts the scheduled snapshot export of {primary_id}",
            inline_policy=iam.policy_document([
                iam.statement("rds:DescribeDBSnapshots", "*", sid="FindNewestSnapshot"),
                iam.statement("rds:StartExportTask", snapshots, sid="ExportIt"),
                iam.statement("iam:PassRole", self.export_role.arn, sid="HandRdsTheExportRole"),
                # The caller of StartExportTask needs these on the key the export is encrypted with.
                iam.statement(["kms:CreateGrant", "kms:DescribeKey"], key_arn, sid="GrantExportKey"),
            ]),
            inline_policy_name=f"{name}-export-machine-policy",
            tags=args.tags,
            opts=opts,
        )
        machine = aws.sfn.StateMachine(
            f"{name}-export-machine",
            name=f"{args.identifier}-snapshot-export",
            role_arn=machine_role.arn,
            definition=definition,
            type="STANDARD",
            tags=dict(args.tags),
            opts=opts,
        )
        scheduler_role = iam.role(
            f"{name}-export-scheduler-role",
            trusted=iam.service("scheduler.amazonaws.com"),
            condition={"StringEquals": {"aws:SourceAccount": account}},
            description=f"EventBridge Scheduler starts the snapshot export of {primary_id}",
            inline_policy=iam.policy_document([iam.statement("states:StartExecution", machine.arn)]),
            inline_policy_name=f"{name}-export-scheduler-policy",
            tags=args.tags,
            opts=opts,
        )
        schedule = aws.scheduler.Schedule(
            f"{name}-export-schedule",
            name=f"{args.identifier}-snapshot-export",
            description=f"Export the newest automated snapshot of {primary_id} to the archive bucket",
            schedule_expression=args.settings.export_schedule,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(arn=machine.arn, role_arn=scheduler_role.arn),
            opts=opts,
        )
        return machine, schedule

    def _export_role(self, name: str, args: RelationalStoreArgs, opts: pulumi.ResourceOptions) -> aws.iam.Role:
        """The role `StartExportTask` passes to RDS: write exports into the archive bucket only."""
        bucket_arn = self.archive.bucket.arn
        return iam.role(
            f"{name}-export-role",
            trusted=iam.service("export.rds.amazonaws.com"),
            inline_policy=iam.policy_document(
                [
                    iam.statement(["s3:ListBucket", "s3:GetBucketLocation"], bucket_arn, sid="ListArchive"),
                    iam.statement(["s3:PutObject*", "s3:GetObject*", "s3:DeleteObject*"],
                                  pulumi.Output.concat(bucket_arn, "/*"), sid="WriteExports"),
                    iam.statement(["kms:GenerateDataKey*", "kms:Decrypt", "kms:DescribeKey"],
                                  self.keys[args.primary_region].arn, sid="EncryptExports"),
                ]
            ),
            inline_policy_name=f"{name}-export-policy",
            tags=args.tags,
            opts=opts,
        )


def export_definition(instance_id: str, prefix: str, bucket: str, export_role_arn: str, key_arn: str) -> str:
    """The state machine (JSONata): newest available automated snapshot -> StartExportTask.

    AWS SDK integrations name fields as the AWS SDK for Java v2 does (`DbInstanceIdentifier`,
    `DbSnapshots`). The task identifier is derived from the snapshot's time, so a snapshot is
    exported once (a second start fails with ExportTaskAlreadyExists instead of paying twice).
    """
    newest = ("{% $sort($states.result.DbSnapshots[Status = 'available'], "
              "function($l, $r) { $l.SnapshotCreateTime < $r.SnapshotCreateTime })[0] %}")
    return json.dumps({
        "Comment": f"Export the newest automated snapshot of {instance_id} to {bucket} (Parquet)",
        "QueryLanguage": "JSONata",
        "StartAt": "FindNewestSnapshot",
        "States": {
            "FindNewestSnapshot": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:rds:describeDBSnapshots",
                "Arguments": {"DbInstanceIdentifier": instance_id, "SnapshotType": "automated"},
                "Assign": {"snapshot": newest},
                "Next": "SnapshotFound",
            },
            "SnapshotFound": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $exists($snapshot) %}", "Next": "StartExport"}],
                "Default": "NoSnapshot",
            },
            "NoSnapshot": {"Type": "Fail", "Error": "NoAvailableSnapshot",
                           "Cause": f"{instance_id} has no available automated snapshot"},
            "StartExport": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:rds:startExportTask",
                "Arguments": {
                    "ExportTaskIdentifier": (
                        "{% '" + prefix + "-' & $replace($snapshot.SnapshotCreateTime, /[^0-9]/, '') %}"),
                    "SourceArn": "{% $snapshot.DbSnapshotArn %}",
                    "S3BucketName": bucket,
                    "S3Prefix": prefix,
                    "IamRoleArn": export_role_arn,
                    "KmsKeyId": key_arn,
                },
                "End": True,
            },
        },
    })
