"""S3 workloads: private, versioned, KMS-encrypted buckets with lifecycle and cross-region replication.

`declare_private_bucket` is the one way this program makes a bucket (the RDS snapshot-export
archive uses it too): versioning, public access blocked, SSE-KMS with a bucket key, lifecycle.
`ReplicatedBucket` adds, for strategies that replicate, a replica bucket in the DR region and a
replication rule with Replication Time Control (15 min), metrics and delete-marker replication,
run by a role that may only read the source and write the replica.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

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
    kms_key_arn: pulumi.Input[str],
    transitions: Sequence[Transition],
    noncurrent_expire_after_days: int,
    abort_incomplete_upload_days: int,
    expire_after_days: int | None,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> PrivateBucket:
    """Declare `<name>` and its configuration children with `opts` (parent and provider)."""
    bucket = aws.s3.Bucket(name, bucket_prefix=f"{name[:36]}-", tags=dict(tags), opts=opts)
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=opts,
    )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
                ),
                bucket_key_enabled=True,  # fewer KMS requests: cheaper, and no KMS throttling
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

    workload: str  # workload name, used in names and tags
    primary_region: str
    dr_region: str
    providers: Mapping[str, aws.Provider]  # region -> provider
    settings: S3Settings  # lifecycle ages
    replicate: bool  # the strategy asks for cross-region replication
    tags: Mapping[str, str] = field(default_factory=dict)


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
        self.source = declare_private_bucket(
            f"{name}-{args.primary_region}",
            kms_key_arn=self.keys[args.primary_region].arn,
            transitions=transitions_for(args.settings),
            noncurrent_expire_after_days=args.settings.noncurrent_expire_after_days,
            abort_incomplete_upload_days=args.settings.abort_incomplete_upload_days,
            expire_after_days=None,
            tags=args.tags,
            opts=in_region[args.primary_region],
        )
        self.replica = None
        self.replication_role = None
        self.replication = None
        if args.replicate:
            self.replica = declare_private_bucket(
                f"{name}-{args.dr_region}",
                kms_key_arn=self.keys[args.dr_region].arn,
                # The replica is the DR copy: it ages like the source so it costs the same per GB.
                transitions=transitions_for(args.settings),
                noncurrent_expire_after_days=args.settings.noncurrent_expire_after_days,
                abort_incomplete_upload_days=args.settings.abort_incomplete_upload_days,
                expire_after_days=None,
                tags=args.tags,
                opts=in_region[args.dr_region],
            )
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
        provider_opts = pulumi.InvokeOutputOptions(provider=args.providers[args.primary_region])
        trust = aws.iam.get_policy_document_output(
            statements=[
                aws.iam.GetPolicyDocumentStatementArgs(
                    actions=["sts:AssumeRole"],
                    principals=[
                        aws.iam.GetPolicyDocumentStatementPrincipalArgs(type="Service", identifiers=["s3.amazonaws.com"])
                    ],
                )
            ],
            opts=provider_opts,
        )
        role = aws.iam.Role(f"{name}-replication-role", assume_role_policy=trust.json, tags=dict(args.tags), opts=opts)
        source_arn = self.source.bucket.arn
        replica_arn = self.replica.bucket.arn
        permissions = aws.iam.get_policy_document_output(
            statements=[
                aws.iam.GetPolicyDocumentStatementArgs(
                    sid="ReadSourceConfiguration",
                    actions=["s3:GetReplicationConfiguration", "s3:ListBucket"],
                    resources=[source_arn],
                ),
                aws.iam.GetPolicyDocumentStatementArgs(
                    sid="ReadSourceVersions",
                    actions=[
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                    ],
                    resources=[source_arn.apply(lambda arn: f"{arn}/*")],
                ),
                aws.iam.GetPolicyDocumentStatementArgs(
                    sid="WriteReplica",
                    actions=["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                    resources=[replica_arn.apply(lambda arn: f"{arn}/*")],
                ),
                aws.iam.GetPolicyDocumentStatementArgs(
                    sid="DecryptSource",
                    actions=["kms:Decrypt"],
                    resources=[self.keys[args.primary_region].arn],
                    conditions=[
                        aws.iam.GetPolicyDocumentStatementConditionArgs(
                            test="StringLike", variable="kms:ViaService", values=[f"s3.{args.primary_region}.amazonaws.com"]
                        )
                    ],
                ),
                aws.iam.GetPolicyDocumentStatementArgs(
                    sid="EncryptReplica",
                    actions=["kms:Encrypt", "kms:GenerateDataKey"],
                    resources=[self.keys[args.dr_region].arn],
                    conditions=[
                        aws.iam.GetPolicyDocumentStatementConditionArgs(
                            test="StringLike", variable="kms:ViaService", values=[f"s3.{args.dr_region}.amazonaws.com"]
                        )
                    ],
                ),
            ],
            opts=provider_opts,
        )
        aws.iam.RolePolicy(f"{name}-replication-policy", role=role.id, policy=permissions.json, opts=opts)
        return role
