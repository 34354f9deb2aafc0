"""S3 workloads: private, versioned, KMS-encrypted buckets with lifecycle and cross-region replication.

`declare_private_bucket` is the one way this program makes a bucket (the RDS snapshot-export
archive and the AWS Backup report bucket use it too): versioning, public access blocked, default
encryption (SSE-KMS with a bucket key; SSE-S3 where the writer cannot hold a KMS grant), lifecycle.
`ReplicatedBucket` adds, for strategies that replicate, a replica bucket in the DR region and a
replication rule with Replication Time Control (15 min), metrics and delete-marker replication,
run by a role that may only read the source and write the replica.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.components import iam
from infra.components.kms import regional_key
from infra.config import S3Settings

REPLICATION_RULE_ID = "to-dr-region"
RTC_MINUTES = 15  # Replication Time Control: the SLA AWS offers is 15 minutes


@dataclass(frozen=True)
class Transition:
    days: int
    storage_class: str  # STANDARD_IA, GLACIER, DEEP_ARCHIVE


@dataclass
class PrivateBucket:
    """A bucket and the configuration resources that make it private, versioned and encrypted."""

    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning
    encryption: aws.s3.BucketServerSideEncryptionConfiguration
    public_access_block: aws.s3.BucketPublicAccessBlock
    lifecycle: aws.s3.BucketLifecycleConfiguration


def declare_private_bucket(
    name: str,
    *,
    kms_key_arn: pulumi.Input[str] | None,
    transitions: Sequence[Transition],
    noncurrent_expire_after_days: int,
    abort_incomplete_upload_days: int,
    expire_after_days: int | None,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> PrivateBucket:
    """Declare `<name>` and its configuration children with `opts` (parent and provider).

    `kms_key_arn` None means SSE-S3 (AES256): only for buckets a service-linked role writes to.
    """
    bucket = aws.s3.Bucket(name, bucket_prefix=f"{name[:36]}-", tags=dict(tags), opts=opts)
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=opts,
    )
    kms = kms_key_arn is not None
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms" if kms else "AES256", kms_master_key_id=kms_key_arn
                ),
                bucket_key_enabled=True if kms else None,  # fewer KMS requests: cheaper, no KMS throttling
            )
        ],
        opts=opts,
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    lifecycle = aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="tiering-and-expiry",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                transitions=[
                    aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=t.days, storage_class=t.storage_class)
                    for t in transitions
                ],
                expiration=(
                    aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expire_after_days)
                    if expire_after_days
                    else None
                ),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=noncurrent_expire_after_days
                ),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=abort_incomplete_upload_days
                ),
            )
        ],
        # Lifecycle rules on an unversioned bucket would ignore the noncurrent-version expiry.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[versioning])),
    )
    return PrivateBucket(bucket, versioning, encryption, public_access_block, lifecycle)


def transitions_for(settings: S3Settings) -> list[Transition]:
    return [
        Transition(settings.standard_ia_after_days, "STANDARD_IA"),
        Transition(settings.glacier_after_days, "GLACIER"),
        Transition(settings.deep_archive_after_days, "DEEP_ARCHIVE"),
    ]


@dataclass
class ReplicatedBucketArgs:
    """Inputs of one S3 workload."""

    workload: str
    """Workload name, used in names and tags."""
    primary_region: str
    """Region of the source bucket the application writes to."""
    dr_region: str
    """Region of the replica bucket (only declared with ``replicate``)."""
    providers: Mapping[str, aws.Provider]
    """One provider per region name; must contain both regions."""
    settings: S3Settings
    """Lifecycle ages (Standard-IA, Glacier, Deep Archive, noncurrent expiry, aborted uploads)."""
    replicate: bool
    """Replicate to ``dr_region`` with Replication Time Control (the strategy's ``s3_replication``)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable child; include ``backup-tier`` so AWS Backup selects the bucket."""


class ReplicatedBucket(pulumi.ComponentResource):
    """An S3 workload's bucket, and for replicating strategies its DR replica and replication rule."""

    keys: dict[str, aws.kms.Key]  # region -> bucket key
    source: PrivateBucket
    replica: PrivateBucket | None
    replication_role: aws.iam.Role | None
    replication: aws.s3.BucketReplicationConfig | None

    def __init__(self, name: str, args: ReplicatedBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("securecart:s3:ReplicatedBucket", name, None, opts)
        regions = [args.primary_region] + ([args.dr_region] if args.replicate else [])
        in_region = {
            region: pulumi.ResourceOptions(parent=self, provider=args.providers[region]) for region in regions
        }
        self.keys = {
            region: regional_key(f"{name}-kms-{region}", f"{args.workload} objects in {region}", args.tags, in_region[region])
            for region in regions
        }
        self.source = self._bucket(name, args, args.primary_region, in_region)
        self.replica = None
        self.replication_role = None
        self.replication = None
        if args.replicate:
            # The replica is the DR copy: it ages like the source so it costs the same per GB.
            self.replica = self._bucket(name, args, args.dr_region, in_region)
            self.replication_role = self._replication_role(name, args, in_region[args.primary_region])
            self.replication = aws.s3.BucketReplicationConfig(
                f"{name}-replication",
                bucket=self.source.bucket.id,
                role=self.replication_role.arn,
                rules=[self._replication_rule(args)],
                # S3 refuses a replication configuration until both buckets are versioned.
                opts=pulumi.ResourceOptions.merge(
                    in_region[args.primary_region],
                    pulumi.ResourceOptions(depends_on=[self.source.versioning, self.replica.versioning]),
                ),
            )
        self.register_outputs(
            {
                "bucket": self.source.bucket.bucket,
                "bucket_arn": self.source.bucket.arn,
                "replica_bucket": self.replica.bucket.bucket if self.replica else None,
            }
        )

    def _bucket(
        self, name: str, args: ReplicatedBucketArgs, region: str, in_region: Mapping[str, pulumi.ResourceOptions]
    ) -> PrivateBucket:
        """The workload's bucket in `region`, encrypted with that region's key."""
        return declare_private_bucket(
            f"{name}-{region}",
            kms_key_arn=self.keys[region].arn,
            transitions=transitions_for(args.settings),
            noncurrent_expire_after_days=args.settings.noncurrent_expire_after_days,
            abort_incomplete_upload_days=args.settings.abort_incomplete_upload_days,
            expire_after_days=None,
            tags=args.tags,
            opts=in_region[region],
        )

    def _replication_rule(self, args: ReplicatedBucketArgs) -> aws.s3.BucketReplicationConfigRuleArgs:
        assert self.replica is not None
        return aws.s3.BucketReplicationConfigRuleArgs(
            id=REPLICATION_RULE_ID,
            status="Enabled",
            priority=1,
            filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
            delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status="Enabled"),
            source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                    status="Enabled"
                )
            ),
            destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                bucket=self.replica.bucket.arn,
                storage_class="STANDARD",
                encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                    replica_kms_key_id=self.keys[args.dr_region].arn
                ),
                replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                    status="Enabled",
                    time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(minutes=RTC_MINUTES),
                ),
                metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                    status="Enabled",
                    event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                        minutes=RTC_MINUTES
                    ),
                ),
            ),
        )

    def _replication_role(self, name: str, args: ReplicatedBucketArgs, opts: pulumi.ResourceOptions) -> aws.iam.Role:
        """A role S3 assumes to replicate: read the source, write the replica, nothing else."""
        assert self.replica is not None
        source_arn = self.source.bucket.arn
        replica_arn = self.replica.bucket.arn

        def via_s3(region: str) -> dict[str, dict[str, str]]:
            # The key may be used only by S3 of its own region, on the bucket's behalf.
            return {"StringLike": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}

        return iam.role(
            f"{name}-replication-role",
            trusted=iam.service("s3.amazonaws.com"),
            inline_policy=iam.policy_document(
                [
                    iam.statement(["s3:GetReplicationConfiguration", "s3:ListBucket"], source_arn,
                                  sid="ReadSourceConfiguration"),
                    iam.statement(
                        ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                        pulumi.Output.concat(source_arn, "/*"),
                        sid="ReadSourceVersions",
                    ),
                    iam.statement(["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                                  pulumi.Output.concat(replica_arn, "/*"), sid="WriteReplica"),
                    iam.statement("kms:Decrypt", self.keys[args.primary_region].arn, sid="DecryptSource",
                                  condition=via_s3(args.primary_region)),
                    iam.statement(["kms:Encrypt", "kms:GenerateDataKey"], self.keys[args.dr_region].arn,
                                  sid="EncryptReplica", condition=via_s3(args.dr_region)),
                ]
            ),
            inline_policy_name=f"{name}-replication-policy",
            tags=args.tags,
            opts=opts,
        )
