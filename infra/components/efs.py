"""EFS for the application logs: encrypted, tiered to Infrequent Access, replicated where the strategy asks.

* A KMS key for the source file system in the primary region; with ``replicate``, a second one in
  the DR region for the read-only replica EFS replication creates there.
* Lifecycle: files move to Infrequent Access after ``transition_to_ia`` (optionally to Archive),
  and back to Standard on first access.
* Backups: with a ``backup_tier`` the file system carries the ``backup-tier`` tag and AWS Backup's
  tag-based plan protects it, so EFS's own automatic backups (the default plan into
  ``aws/efs/automatic-backup-vault``) are switched off to avoid paying twice; without a tier they
  are switched on. Either way the policy is declared, so a console change shows up as drift.
* Replication (``replicate``, from ``StrategySpec.efs_replication``: pilot-light, warm-standby):
  ``aws.efs.ReplicationConfiguration`` from the primary file system to a new one in the DR region
  (EFS creates and owns that replica; its id is an output). Backup-restore declares none: its DR
  copy is the AWS Backup recovery point copied to the DR vault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from infra.components.kms import regional_key
from infra.components.regions import check_two_regions
from infra.naming import BACKUP_TIER_TAG

IA_TRANSITIONS: tuple[str, ...] = (
    "AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS",
    "AFTER_60_DAYS", "AFTER_90_DAYS", "AFTER_180_DAYS", "AFTER_270_DAYS", "AFTER_365_DAYS",
)


class FileStorePolicyError(ValueError):
    """An EFS setting AWS would reject; the message is one line."""


@dataclass
class FileStoreArgs:
    """Inputs of :class:`FileStore`."""

    workload: str
    """Workload name (e.g. ``app-logs``); used in tags and key descriptions."""
    primary_region: str
    """Region of the file system the application mounts."""
    dr_region: str
    """Region of the read-only replica (only with ``replicate``)."""
    providers: Mapping[str, aws.Provider]
    """One provider per region name; must contain both regions."""
    replicate: bool
    """Replicate to a read-only file system in ``dr_region`` (the strategy's ``efs_replication``)."""
    backup_tier: str | None = None
    """``backup-tier`` tag value for AWS Backup; ``None`` falls back to EFS automatic backups."""
    transition_to_ia: str = "AFTER_30_DAYS"
    """When files move to Infrequent Access (one of :data:`IA_TRANSITIONS`)."""
    transition_to_archive: str | None = None
    """When files move to Archive (elastic throughput only); ``None`` keeps them in IA."""
    throughput_mode: str = "elastic"
    """``elastic`` (needed for Archive), ``bursting`` or ``provisioned``."""
    mount_target_subnets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Optional zone name -> subnet id for mount targets in the primary region."""
    dr_mount_target_subnets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Zone -> subnet id for mount targets of the DR replica, so DR compute can mount it."""
    security_group_ids: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Region -> security group ids of that region's mount targets."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable child."""


def validate_file_store_args(args: FileStoreArgs) -> None:
    """Refuse settings EFS would reject; one line naming the field."""
    check_two_regions("FileStoreArgs", args.primary_region, args.dr_region, args.providers, FileStorePolicyError)
    if args.transition_to_ia not in IA_TRANSITIONS:
        raise FileStorePolicyError(f"FileStoreArgs.transition_to_ia: must be one of {IA_TRANSITIONS}")
    if args.transition_to_archive is not None:
        if args.transition_to_archive not in IA_TRANSITIONS:
            raise FileStorePolicyError(f"FileStoreArgs.transition_to_archive: must be one of {IA_TRANSITIONS}")
        if args.throughput_mode != "elastic":
            raise FileStorePolicyError("FileStoreArgs.transition_to_archive: EFS Archive needs throughput_mode elastic")


class FileStore(pulumi.ComponentResource):
    """An encrypted EFS file system, replicated to the DR region when the strategy asks for it."""

    keys: dict[str, aws.kms.Key]
    """Region -> key: the primary region's, plus the DR region's when replicated."""
    file_system: aws.efs.FileSystem
    backup_policy: aws.efs.BackupPolicy
    replication: aws.efs.ReplicationConfiguration | None
    replica_file_system_id: pulumi.Output[str] | None
    """Id of the DR replica EFS creates; ``None`` when not replicated."""
    mount_targets: dict[str, aws.efs.MountTarget]

    def __init__(self, name: str, args: FileStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("securecart:efs:FileStore", name, None, opts)
        validate_file_store_args(args)
        self._args = args
        tags = {**args.tags, "workload": args.workload}
        if args.backup_tier:
            tags[BACKUP_TIER_TAG] = args.backup_tier

        self.keys = {
            region: regional_key(f"{name}-key-{region}", f"{args.workload} file system in {region}", args.tags,
                                 self._in(region))
            for region in [args.primary_region] + ([args.dr_region] if args.replicate else [])
        }

        lifecycle = [
            aws.efs.FileSystemLifecyclePolicyArgs(transition_to_ia=args.transition_to_ia),
            aws.efs.FileSystemLifecyclePolicyArgs(transition_to_primary_storage_class="AFTER_1_ACCESS"),
        ]
        if args.transition_to_archive:
            lifecycle.append(aws.efs.FileSystemLifecyclePolicyArgs(transition_to_archive=args.transition_to_archive))
        self.file_system = aws.efs.FileSystem(
            f"{name}-file-system",
            encrypted=True,
            kms_key_id=self.keys[args.primary_region].arn,
            performance_mode="generalPurpose",
            throughput_mode=args.throughput_mode,
            lifecycle_policies=lifecycle,
            tags={**tags, "Name": f"{name}-{args.workload}"},
            opts=self._in(args.primary_region),
        )

        self.backup_policy = aws.efs.BackupPolicy(
            f"{name}-backup-policy",
            file_system_id=self.file_system.id,
            backup_policy=aws.efs.BackupPolicyBackupPolicyArgs(
                status="DISABLED" if args.backup_tier else "ENABLED"
            ),
            opts=self._in(args.primary_region),
        )

        self.replication = None
        self.replica_file_system_id = None
        if args.replicate:
            # Declared in the source region; EFS creates the replica file system in the DR region.
            self.replication = aws.efs.ReplicationConfiguration(
                f"{name}-replication",
                source_file_system_id=self.file_system.id,
                destination=aws.efs.ReplicationConfigurationDestinationArgs(
                    region=args.dr_region,
                    kms_key_id=self.keys[args.dr_region].arn,
                ),
                opts=self._in(args.primary_region),
            )
            self.replica_file_system_id = self.replication.destination.apply(lambda d: d.file_system_id)

        mounts = [(zone, subnet, self.file_system.id, args.primary_region)
                  for zone, subnet in args.mount_target_subnets.items()]
        if self.replica_file_system_id is not None:
            mounts += [(zone, subnet, self.replica_file_system_id, args.dr_region)
                       for zone, subnet in args.dr_mount_target_subnets.items()]
        self.mount_targets = {
            zone: aws.efs.MountTarget(
                f"{name}-mount-{zone}",
                file_system_id=file_system_id,
                subnet_id=subnet_id,
                security_groups=list(args.security_group_ids.get(region, ())) or None,
                opts=self._in(region),
            )
            for zone, subnet_id, file_system_id, region in mounts
        }

        self.register_outputs(
            {
                "file_system_id": self.file_system.id,
                "file_system_arn": self.file_system.arn,
                "replica_file_system_id": self.replica_file_system_id,
            }
        )

    def _in(self, region: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.providers[region])
