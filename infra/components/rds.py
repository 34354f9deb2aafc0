"""The orders database: RDS PostgreSQL 15 with backups, cross-region copies and a snapshot archive.

What it declares, and why:
- a Multi-AZ primary (an AZ failure fails over within the region), automated backups kept up to
  35 days with PITR, deletion protection and a final snapshot, master password managed by RDS in
  Secrets Manager, storage encrypted with a regional KMS key;
- replication of the automated backups to the DR region, so PITR works there after a region loss;
- for pilot-light and warm-standby, a cross-region read replica (smaller instance class) that the
  runbook promotes;
- an archive bucket for snapshot exports, with the role RDS assumes to write them and a lifecycle
  that moves exports to Glacier and then Deep Archive. AWS Backup cannot tier RDS to cold storage;
  this is the long-retention path. The export itself is a task started per snapshot
  (`StartExportTask`), not a resource: it is declared here as bucket, role and key only.

Networking: no subnet group is given, so RDS uses the account's default VPC in each region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.components import iam
from infra.components.kms import regional_key
from infra.components.s3 import PrivateBucket, Transition, declare_private_bucket
from infra.config import RdsSettings

REPLICA_BACKUP_RETENTION_DAYS = 7  # a promoted replica must already take backups


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

    def __init__(self, name: str, args: RelationalStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("securecart:rds:RelationalStore", name, None, opts)
        primary_opts = pulumi.ResourceOptions(parent=self, provider=args.providers[args.primary_region])
        dr_opts = pulumi.ResourceOptions(parent=self, provider=args.providers[args.dr_region])
        settings = args.settings
        self.keys = {
            region: regional_key(f"{name}-kms-{region}", f"{args.workload} database in {region}", args.tags, region_opts)
            for region, region_opts in ((args.primary_region, primary_opts), (args.dr_region, dr_opts))
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
            tags=args.tags,
            opts=primary_opts,
        )
        self.export_role = self._export_role(name, args, primary_opts)

        self.register_outputs(
            {
                "primary_arn": self.primary.arn,
                "primary_address": self.primary.address,
                "replica_arn": self.replica.arn if self.replica else None,
                "archive_bucket": self.archive.bucket.bucket,
            }
        )

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
