"""AWS Backup for SecureCart: vaults, plans, selections, notifications, reports, audit, restore tests.

What this component declares, and why it is shaped this way:

* One KMS key and one locked vault per region (primary and DR). Copy actions send the snapshot
  recovery points of every rule with ``copy_to_dr`` to the DR vault, so a region outage leaves a
  restorable copy behind.
* Two plans per backup tier, because AWS Backup can move only some resource types to cold storage
  (EFS, EBS, EC2, DynamoDB with advanced features), never RDS or S3:
    - ``<tier>-tiered`` selects EFS/EBS/EC2/DynamoDB and applies the cold-storage lifecycle;
    - ``<tier>-warm`` selects RDS/S3, keeps the same schedules without cold storage, and carries
      the continuous-backup (point-in-time) rule where the tier asks for one.
  A selection is "resource-type ARN pattern AND tag ``backup-tier`` = <tier>" (AWS ANDs
  ``resources`` with ``conditions``), so a resource lands in exactly one plan of its tier.
* Vault notifications to an SNS topic per region with the configured subscribers, three report
  plans (backup, copy, restore jobs) into a private, versioned, encrypted S3 bucket, and restore
  testing for the tiers that ask for it in BOTH regions: the primary vault's recovery points and
  the DR vault's copies (region-loss recovery depends on the copies). A selection is declared
  only for resource types the tier really holds. The report bucket archives old reports.
* Opt-in: the audit framework (its controls are evaluated by AWS Config, so without recording
  AWS reports it FAILED) and, with it, a Config recorder for the resource types the controls read.
  The report bucket's policy names the AWSServiceRoleForBackupReports service-linked role, which
  AWS Backup creates with the first report plan or framework: the policy is declared after them.

Values that shape the declaration (regions, retention days, tiers) are plain Python values so they
can be validated here, before any resource exists; values that come from other resources are
``pulumi.Input``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, Mapping, Sequence

import pulumi
import pulumi_aws as aws

from infra.components import iam
from infra.components.kms import regional_key
from infra.components.regions import check_two_regions
from infra.components.s3 import PrivateBucket, Transition, declare_private_bucket
from infra.naming import BACKUP_TIER_TAG

#: Resource types AWS Backup can transition to cold storage (DynamoDB needs advanced features,
#: which this component switches on through ``aws.backup.RegionSettings``).
COLD_STORAGE_RESOURCE_TYPES: tuple[str, ...] = ("EFS", "EBS", "EC2", "DynamoDB")
#: Resource types AWS Backup cannot tier; they may use continuous backup instead.
WARM_ONLY_RESOURCE_TYPES: tuple[str, ...] = ("RDS", "S3")
#: A recovery point must stay this many days in cold storage before it may be deleted.
COLD_STORAGE_MINIMUM_DAYS = 90
#: AWS Backup continuous backups (point-in-time restore) keep at most this many days.
CONTINUOUS_BACKUP_MAX_DAYS = 35

#: ARN patterns per AWS Backup resource type, used to restrict a selection to those types.
RESOURCE_ARN_PATTERNS: Mapping[str, str] = {
    "RDS": "arn:aws:rds:*:*:db:*",
    "S3": "arn:aws:s3:::*",
    "EFS": "arn:aws:elasticfilesystem:*:*:file-system/*",
    "EBS": "arn:aws:ec2:*:*:volume/*",
    "EC2": "arn:aws:ec2:*:*:instance/*",
    "DynamoDB": "arn:aws:dynamodb:*:*:table/*",
}

#: Vault events worth a notification. AWS reports a failed backup job as BACKUP_JOB_COMPLETED
#: with a failed state (BACKUP_JOB_FAILED is a deprecated event AWS no longer sends), so the
#: completed event is the one that carries failures; monitoring's EventBridge rule filters them.
VAULT_NOTIFICATION_EVENTS: tuple[str, ...] = (
    "BACKUP_JOB_COMPLETED",
    "COPY_JOB_SUCCESSFUL",
    "COPY_JOB_FAILED",
    "RESTORE_JOB_STARTED",
    "RESTORE_JOB_COMPLETED",
    "S3_BACKUP_OBJECT_FAILED",
    "S3_RESTORE_OBJECT_FAILED",
)

REPORT_TEMPLATES: tuple[str, ...] = ("BACKUP_JOB_REPORT", "COPY_JOB_REPORT", "RESTORE_JOB_REPORT")

#: Report bucket lifecycle: reports are read in the first weeks, kept for audits afterwards.
REPORTS_GLACIER_AFTER_DAYS = 90
REPORTS_DEEP_ARCHIVE_AFTER_DAYS = 365
REPORTS_NONCURRENT_EXPIRE_DAYS = 30

#: Resource types the restore testing plan exercises for critical tiers (S3 restores of large
#: buckets are slow and costly, so they are left to game days). EC2, not EBS: AWS Backup protects
#: the instance with its volumes.
RESTORE_TESTED_RESOURCE_TYPES: tuple[str, ...] = ("RDS", "DynamoDB", "EFS", "EC2")

#: What AWS Config records for the audit framework: the AWS Backup resources its controls read and
#: the protected resource types (AWS Backup "Turning on resource tracking").
CONFIG_RECORDED_TYPES: tuple[str, ...] = (
    "AWS::Backup::BackupPlan", "AWS::Backup::BackupSelection", "AWS::Backup::BackupVault",
    "AWS::Backup::RecoveryPoint", "AWS::RDS::DBInstance", "AWS::DynamoDB::Table", "AWS::EFS::FileSystem",
    "AWS::EC2::Instance", "AWS::EC2::Volume", "AWS::S3::Bucket",
)
CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
CONFIG_PREFIX = "config"

_BACKUP_MANAGED_POLICIES: Mapping[str, str] = {
    "backup": "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "restores": "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    "s3-backup": "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
    "s3-restore": "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
}


class BackupPolicyError(ValueError):
    """A backup setting AWS Backup would reject or silently ignore; the message is one line."""


@dataclass(frozen=True)
class BackupRuleSpec:
    """One scheduled snapshot rule of a tier (e.g. daily, weekly, monthly).

    ``cold_storage_after_days`` applies only to the tier's cold-capable plan; the warm plan
    (RDS, S3) uses the same schedule and retention without it.
    """

    name: str
    """Rule name, e.g. ``daily``."""
    schedule: str
    """AWS cron expression in UTC, e.g. ``cron(0 5 ? * * *)``."""
    delete_after_days: int
    """Retention of the recovery point in the source (primary-region) vault."""
    cold_storage_after_days: int | None = None
    """Days before moving to cold storage (cold-capable types only); ``None`` keeps it warm."""
    copy_to_dr: bool = True
    """Copy each recovery point to the DR-region vault."""
    copy_delete_after_days: int | None = None
    """Retention of the DR copy; ``None`` means the same as ``delete_after_days``."""
    copy_cold_storage_after_days: int | None = None
    """Cold-storage transition of the DR copy (cold-capable types only)."""
    start_window_minutes: int = 60
    """How long after the scheduled time a job may start before it is cancelled."""
    completion_window_minutes: int = 360
    """How long a started job may run before it is cancelled."""


@dataclass(frozen=True)
class BackupTierSpec:
    """Everything AWS Backup does for the resources tagged ``backup-tier = <name>``."""

    name: str
    """The tag value, e.g. ``critical``; also used in child resource names."""
    rules: Sequence[BackupRuleSpec]
    """Scheduled snapshot rules (at least one)."""
    continuous_backup_days: int | None = None
    """Continuous backup (point-in-time restore) retention for RDS and S3, 1..35; ``None``: off."""
    restore_testing: bool = False
    """Include this tier in the weekly restore testing plan."""
    resource_types: Sequence[str] = tuple(RESOURCE_ARN_PATTERNS)
    """The AWS Backup types the tier really holds; restore testing selects only these."""


@dataclass
class BackupArgs:
    """Inputs of :class:`Backup`."""

    primary_region: str
    """Region of the protected resources and of the source vault."""
    dr_region: str
    """Region of the copy-destination vault."""
    providers: Mapping[str, aws.Provider]
    """One provider per region name; must contain both regions."""
    tiers: Sequence[BackupTierSpec]
    """The backup tiers; each yields a cold-capable plan and a warm plan."""
    lock_mode: Literal["governance", "compliance"]
    """Vault lock mode. ``compliance`` becomes immutable after ``lock_changeable_for_days``."""
    lock_min_retention_days: int
    """Vault lock: jobs retaining less than this fail (must not exceed any declared retention)."""
    lock_max_retention_days: int
    """Vault lock: jobs retaining more than this fail (must cover every declared retention)."""
    lock_changeable_for_days: int = 3
    """Compliance mode only: grace period before the lock becomes immutable (AWS minimum 3)."""
    audit_frequency_hours: int = 24
    """Audit framework: every plan must back up at least this often."""
    manage_region_settings: bool = True
    """Declare ``aws.backup.RegionSettings`` (opt-in + DynamoDB advanced features) per region.
    These are account-wide per region: turn off in every stack but one sharing an account."""
    audit_framework: bool = False
    """Declare the audit framework; it needs AWS Config recording in the primary region."""
    declare_config_recorder: bool = False
    """With the framework: declare the Config recorder (one per region and account)."""
    notification_subscribers: Sequence[tuple[str, str]] = ()
    """(protocol, endpoint) subscribed to both vault topics, e.g. ("email", "ops@example.com")."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable child (cost allocation included)."""


def _identifier(text: str) -> str:
    """Names of report plans, frameworks and restore testing plans allow only [A-Za-z0-9_]."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return cleaned if cleaned[:1].isalpha() else f"b_{cleaned}"


def _check_lifecycle(where: str, cold_after: int | None, delete_after: int) -> None:
    if delete_after < 1:
        raise BackupPolicyError(f"{where}: delete_after_days must be >= 1; got {delete_after}")
    if cold_after is None:
        return
    if cold_after < 1:
        raise BackupPolicyError(f"{where}: cold_storage_after_days must be >= 1; got {cold_after}")
    if delete_after < cold_after + COLD_STORAGE_MINIMUM_DAYS:
        raise BackupPolicyError(
            f"{where}: delete_after_days {delete_after} leaves less than "
            f"{COLD_STORAGE_MINIMUM_DAYS} days in cold storage after day {cold_after}; "
            f"set it to at least {cold_after + COLD_STORAGE_MINIMUM_DAYS} or drop cold storage"
        )


def validate_backup_args(args: BackupArgs) -> None:
    """Refuse settings AWS Backup would reject at apply time; one line naming the field."""
    check_two_regions("BackupArgs", args.primary_region, args.dr_region, args.providers, BackupPolicyError)
    if not args.tiers:
        raise BackupPolicyError("BackupArgs.tiers: declare at least one backup tier")
    if args.lock_mode not in ("governance", "compliance"):
        raise BackupPolicyError(
            f"BackupArgs.lock_mode: {args.lock_mode!r} is not governance or compliance"
        )
    if args.lock_mode == "compliance" and args.lock_changeable_for_days < 3:
        raise BackupPolicyError(
            "BackupArgs.lock_changeable_for_days: AWS requires at least 3 days in compliance mode"
        )
    if not args.notification_subscribers:
        raise BackupPolicyError("BackupArgs.notification_subscribers: vault events would reach nobody; "
                                "give at least one (protocol, endpoint)")
    if args.declare_config_recorder and not args.audit_framework:
        raise BackupPolicyError("BackupArgs.declare_config_recorder: only the audit framework needs it")
    retentions: list[tuple[str, int]] = []
    for tier in args.tiers:
        if not tier.rules:
            raise BackupPolicyError(f"tier {tier.name}: declare at least one rule")
        for rule in tier.rules:
            where = f"tier {tier.name} rule {rule.name}"
            _check_lifecycle(where, rule.cold_storage_after_days, rule.delete_after_days)
            retentions.append((where, rule.delete_after_days))
            if rule.copy_to_dr:
                copy_delete = rule.copy_delete_after_days or rule.delete_after_days
                _check_lifecycle(f"{where} (DR copy)", rule.copy_cold_storage_after_days, copy_delete)
                retentions.append((f"{where} (DR copy)", copy_delete))
        if tier.continuous_backup_days is not None:
            if not 1 <= tier.continuous_backup_days <= CONTINUOUS_BACKUP_MAX_DAYS:
                raise BackupPolicyError(
                    f"tier {tier.name}: continuous_backup_days must be 1..{CONTINUOUS_BACKUP_MAX_DAYS};"
                    f" got {tier.continuous_backup_days}"
                )
            retentions.append((f"tier {tier.name} continuous", tier.continuous_backup_days))
    for where, days in retentions:
        if days < args.lock_min_retention_days:
            raise BackupPolicyError(
                f"BackupArgs.lock_min_retention_days: {where} keeps {days} days, below the vault "
                f"lock minimum {args.lock_min_retention_days}; the vault would fail those jobs"
            )
        if days > args.lock_max_retention_days:
            raise BackupPolicyError(
                f"BackupArgs.lock_max_retention_days: {where} keeps {days} days, above the vault "
                f"lock maximum {args.lock_max_retention_days}; the vault would fail those jobs"
            )


class Backup(pulumi.ComponentResource):
    """Locked, KMS-encrypted vaults in both regions and the plans, reports and audits around them."""

    vault_keys: dict[str, aws.kms.Key]
    vaults: dict[str, aws.backup.Vault]
    vault_locks: dict[str, aws.backup.VaultLockConfiguration]
    notification_topics: dict[str, aws.sns.Topic]
    lock_mode: str
    backup_role: aws.iam.Role
    plans: dict[str, aws.backup.Plan]
    """Keyed ``<tier>-tiered`` / ``<tier>-warm``; see :meth:`plan_for`."""
    selections: dict[str, aws.backup.Selection]
    report_bucket: PrivateBucket
    report_plans: dict[str, aws.backup.ReportPlan]
    framework: aws.backup.Framework | None
    config_recorder: aws.cfg.Recorder | None
    restore_testing_plans: dict[str, aws.backup.RestoreTestingPlan]
    """Region -> plan: the primary vault's recovery points and the DR vault's copies."""
    restore_testing_selections: dict[str, aws.backup.RestoreTestingSelection]
    notification_subscriptions: list[aws.sns.TopicSubscription]

    def __init__(self, name: str, args: BackupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("securecart:backup:Backup", name, None, opts)
        validate_backup_args(args)
        self._name = name
        self._args = args
        self.lock_mode = args.lock_mode
        tags = dict(args.tags)
        regions = (args.primary_region, args.dr_region)

        if args.manage_region_settings:
            for region in regions:
                self._region_settings(region)

        self.vault_keys, self.vaults, self.vault_locks, self.notification_topics = {}, {}, {}, {}
        self.notification_subscriptions = []
        for region in regions:
            self._vault(region, tags)

        self.backup_role = self._backup_role(tags)

        self.plans, self.selections = {}, {}
        for tier in args.tiers:
            self._tier_plans(tier, tags)

        self.report_bucket = self._report_bucket(tags)
        self.report_plans = {
            template: self._report_plan(template, tags) for template in REPORT_TEMPLATES
        }
        self.config_recorder = self._config_recorder(tags) if args.declare_config_recorder else None
        self.framework = self._framework(tags) if args.audit_framework else None
        # After the report plans and framework: AWS Backup creates the reports service-linked role
        # with the first of them, and S3 refuses a policy naming a principal that does not exist.
        self._report_bucket_policy([*self.report_plans.values(), *([self.framework] if self.framework else [])])
        self.restore_testing_plans, self.restore_testing_selections = {}, {}
        for region in regions:
            self._restore_testing(region, tags)

        self.register_outputs(
            {
                "vault_arns": {region: vault.arn for region, vault in self.vaults.items()},
                "plan_ids": {key: plan.id for key, plan in self.plans.items()},
                "report_bucket": self.report_bucket.bucket.bucket,
                "framework_arn": self.framework.arn if self.framework else None,
                "lock_mode": self.lock_mode,
            }
        )

    # ----- public helpers -------------------------------------------------------------------

    def plan_for(self, tier: str, resource_type: str) -> aws.backup.Plan:
        """The plan that protects a resource of ``resource_type`` tagged ``backup-tier = tier``."""
        if resource_type in COLD_STORAGE_RESOURCE_TYPES:
            return self.plans[f"{tier}-tiered"]
        if resource_type in WARM_ONLY_RESOURCE_TYPES:
            return self.plans[f"{tier}-warm"]
        raise KeyError(f"resource_type {resource_type!r}: not one of {sorted(RESOURCE_ARN_PATTERNS)}")

    # ----- children ---------------------------------------------------------------------------

    def _in(self, region: str, **extra) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.providers[region], **extra)

    def _region_settings(self, region: str) -> aws.backup.RegionSettings:
        # DynamoDB "advanced features" (full management) are what allow cold storage and
        # cross-region copies of DynamoDB recovery points. Only the types this program protects
        # are listed; AWS reports the others too, so a plan may show them as a harmless diff.
        return aws.backup.RegionSettings(
            f"{self._name}-region-settings-{region}",
            resource_type_opt_in_preference={t: True for t in RESOURCE_ARN_PATTERNS},
            resource_type_management_preference={"DynamoDB": True, "EFS": True},
            opts=self._in(region),
        )

    def _vault(self, region: str, tags: dict[str, str]) -> None:
        key = regional_key(f"{self._name}-vault-key-{region}", f"backup vault in {region}", tags, self._in(region))
        aws.kms.Alias(
            f"{self._name}-vault-key-alias-{region}",
            name=f"alias/{self._name}-backup-{region}",
            target_key_id=key.key_id,
            opts=self._in(region),
        )
        vault = aws.backup.Vault(
            f"{self._name}-vault-{region}",
            kms_key_arn=key.arn,
            tags=tags,
            opts=self._in(region),
        )
        lock = aws.backup.VaultLockConfiguration(
            f"{self._name}-vault-lock-{region}",
            backup_vault_name=vault.name,
            min_retention_days=self._args.lock_min_retention_days,
            max_retention_days=self._args.lock_max_retention_days,
            # Without changeable_for_days the lock stays in governance mode (removable by
            # privileged users); with it the lock turns immutable (compliance) after the grace.
            changeable_for_days=(
                self._args.lock_changeable_for_days if self._args.lock_mode == "compliance" else None
            ),
            opts=self._in(region),
        )
        topic = aws.sns.Topic(f"{self._name}-vault-events-{region}", tags=tags, opts=self._in(region))
        topic_policy = aws.sns.TopicPolicy(
            f"{self._name}-vault-events-policy-{region}",
            arn=topic.arn,
            policy=iam.policy_document(
                [iam.statement("SNS:Publish", topic.arn, sid="AwsBackupPublishes",
                               principal=iam.service("backup.amazonaws.com"))]
            ),
            opts=self._in(region),
        )
        for index, (protocol, endpoint) in enumerate(self._args.notification_subscribers):
            self.notification_subscriptions.append(aws.sns.TopicSubscription(
                f"{self._name}-vault-events-{region}-{protocol}-{index}",
                topic=topic.arn, protocol=protocol, endpoint=endpoint, opts=self._in(region)))
        aws.backup.VaultNotifications(
            f"{self._name}-vault-notifications-{region}",
            backup_vault_name=vault.name,
            sns_topic_arn=topic.arn,
            backup_vault_events=list(VAULT_NOTIFICATION_EVENTS),
            opts=self._in(region, depends_on=[topic_policy]),
        )
        self.vault_keys[region] = key
        self.vaults[region] = vault
        self.vault_locks[region] = lock
        self.notification_topics[region] = topic

    def _backup_role(self, tags: dict[str, str]) -> aws.iam.Role:
        return iam.role(
            f"{self._name}-role",
            trusted=iam.service("backup.amazonaws.com"),
            description="AWS Backup service role for SecureCart backup, copy, restore and restore tests",
            managed_policies=_BACKUP_MANAGED_POLICIES,
            tags=tags,
            opts=self._in(self._args.primary_region),
        )

    def _tier_plans(self, tier: BackupTierSpec, tags: dict[str, str]) -> None:
        for plan_class, resource_types, cold in (
            ("tiered", COLD_STORAGE_RESOURCE_TYPES, True),
            ("warm", WARM_ONLY_RESOURCE_TYPES, False),
        ):
            key = f"{tier.name}-{plan_class}"
            rules = [self._rule(rule, cold) for rule in tier.rules]
            if not cold and tier.continuous_backup_days is not None:
                rules.append(self._continuous_rule(tier))
            plan = aws.backup.Plan(
                f"{self._name}-plan-{key}",
                rules=rules,
                tags={**tags, BACKUP_TIER_TAG: tier.name},
                opts=self._in(self._args.primary_region),
            )
            self.plans[key] = plan
            self.selections[key] = aws.backup.Selection(
                f"{self._name}-selection-{key}",
                plan_id=plan.id,
                iam_role_arn=self.backup_role.arn,
                # AWS ANDs `resources` with `conditions`: this type family AND this tier's tag.
                resources=[RESOURCE_ARN_PATTERNS[t] for t in resource_types],
                conditions=[
                    aws.backup.SelectionConditionArgs(
                        string_equals=[
                            aws.backup.SelectionConditionStringEqualArgs(
                                key=f"aws:ResourceTag/{BACKUP_TIER_TAG}", value=tier.name
                            )
                        ]
                    )
                ],
                opts=self._in(self._args.primary_region),
            )

    def _rule(self, rule: BackupRuleSpec, cold: bool) -> aws.backup.PlanRuleArgs:
        copy_actions = None
        if rule.copy_to_dr:
            copy_actions = [
                aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=self.vaults[self._args.dr_region].arn,
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                        cold_storage_after=rule.copy_cold_storage_after_days if cold else None,
                        delete_after=rule.copy_delete_after_days or rule.delete_after_days,
                    ),
                )
            ]
        return aws.backup.PlanRuleArgs(
            rule_name=rule.name,
            target_vault_name=self.vaults[self._args.primary_region].name,
            schedule=rule.schedule,
            start_window=rule.start_window_minutes,
            completion_window=rule.completion_window_minutes,
            lifecycle=aws.backup.PlanRuleLifecycleArgs(
                cold_storage_after=rule.cold_storage_after_days if cold else None,
                delete_after=rule.delete_after_days,
            ),
            copy_actions=copy_actions,
            recovery_point_tags={"backup-rule": rule.name},
        )

    def _continuous_rule(self, tier: BackupTierSpec) -> aws.backup.PlanRuleArgs:
        # Continuous backups give point-in-time restore for RDS and S3 in the primary region; the
        # DR copies come from the tier's snapshot rules (a continuous recovery point is not copied).
        return aws.backup.PlanRuleArgs(
            rule_name="continuous",
            target_vault_name=self.vaults[self._args.primary_region].name,
            # Daily full snapshot; continuous backup fills the gaps for point-in-time restore.
            schedule="cron(0 4 ? * * *)",
            enable_continuous_backup=True,
            start_window=60,
            completion_window=180,
            lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=tier.continuous_backup_days),
        )

    def _report_bucket(self, tags: dict[str, str]) -> PrivateBucket:
        region = self._args.primary_region
        # Reports are audit evidence: kept, but moved to archive tiers as they age. SSE-S3, not
        # KMS: the Backup reports service-linked role writes here and holds no KMS grant.
        reports = declare_private_bucket(
            f"{self._name}-reports",
            kms_key_arn=None,
            transitions=[
                Transition(REPORTS_GLACIER_AFTER_DAYS, "GLACIER"),
                Transition(REPORTS_DEEP_ARCHIVE_AFTER_DAYS, "DEEP_ARCHIVE"),
            ],
            noncurrent_expire_after_days=REPORTS_NONCURRENT_EXPIRE_DAYS,
            abort_incomplete_upload_days=7,
            expire_after_days=None,
            tags=tags,
            opts=self._in(region),
        )
        return reports

    def _account_id(self) -> pulumi.Output[str]:
        # The account id is the fifth field of any ARN in it; reading it off the vault ARN avoids
        # an extra get_caller_identity look-up.
        return self.vaults[self._args.primary_region].arn.apply(lambda arn: arn.split(":")[4])

    def _report_bucket_policy(self, after: list[pulumi.Resource]) -> aws.s3.BucketPolicy:
        region = self._args.primary_region
        bucket = self.report_bucket.bucket
        account_id = self._account_id()
        reports_role = pulumi.Output.concat(
            "arn:aws:iam::", account_id,
            ":role/aws-service-role/reports.backup.amazonaws.com/AWSServiceRoleForBackupReports",
        )
        objects = pulumi.Output.concat(bucket.arn, "/*")
        statements = [
            iam.statement("s3:PutObject", objects, sid="BackupReportsWrite", principal={"AWS": reports_role},
                          condition={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}),
        ]
        if self._args.declare_config_recorder:
            config_service = iam.service("config.amazonaws.com")
            from_this_account = {"StringEquals": {"aws:SourceAccount": account_id}}
            statements += [
                iam.statement(["s3:GetBucketAcl", "s3:ListBucket"], bucket.arn, from_this_account,
                              sid="ConfigChecksBucket", principal=config_service),
                iam.statement("s3:PutObject",
                              pulumi.Output.concat(bucket.arn, f"/{CONFIG_PREFIX}/AWSLogs/", account_id, "/Config/*"),
                              {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                                "aws:SourceAccount": account_id}},
                              sid="ConfigDelivers", principal=config_service),
            ]
        statements.append(iam.statement("s3:*", [bucket.arn, objects], sid="DenyInsecureTransport", effect="Deny",
                                        principal="*", condition={"Bool": {"aws:SecureTransport": "false"}}))
        return aws.s3.BucketPolicy(
            f"{self._name}-reports-policy",
            bucket=bucket.id,
            policy=iam.policy_document(statements),
            opts=self._in(region, depends_on=[self.report_bucket.public_access_block, *after]),
        )

    def _config_recorder(self, tags: dict[str, str]) -> aws.cfg.Recorder:
        """AWS Config recording of what the audit controls read, delivered to the report bucket."""
        region = self._args.primary_region
        role = iam.role(
            f"{self._name}-config-role",
            trusted=iam.service("config.amazonaws.com"),
            description="AWS Config recorder for the AWS Backup audit framework",
            managed_policies={"config": CONFIG_ROLE_POLICY},
            tags=tags,
            opts=self._in(region),
        )
        recorder = aws.cfg.Recorder(
            f"{self._name}-config-recorder",
            name=_identifier(f"{self._name}_backup_audit"),
            role_arn=role.arn,
            recording_group=aws.cfg.RecorderRecordingGroupArgs(
                all_supported=False, include_global_resource_types=False,
                recording_strategies=[aws.cfg.RecorderRecordingGroupRecordingStrategyArgs(use_only="INCLUSION_BY_RESOURCE_TYPES")],
                resource_types=list(CONFIG_RECORDED_TYPES)),
            opts=self._in(region),
        )
        channel = aws.cfg.DeliveryChannel(
            f"{self._name}-config-delivery",
            name=_identifier(f"{self._name}_backup_audit"),
            s3_bucket_name=self.report_bucket.bucket.bucket,
            s3_key_prefix=CONFIG_PREFIX,
            opts=self._in(region, depends_on=[recorder]),
        )
        aws.cfg.RecorderStatus(
            f"{self._name}-config-recorder-status",
            name=recorder.name,
            is_enabled=True,
            opts=self._in(region, depends_on=[channel]),
        )
        return recorder

    def _report_plan(self, template: str, tags: dict[str, str]) -> aws.backup.ReportPlan:
        kind = template.removesuffix("_REPORT").lower()  # backup_job / copy_job / restore_job
        return aws.backup.ReportPlan(
            f"{self._name}-report-{kind.replace('_', '-')}",
            name=_identifier(f"{self._name}_{kind}"),
            description=f"SecureCart {kind.replace('_', ' ')}s in both regions",
            report_delivery_channel=aws.backup.ReportPlanReportDeliveryChannelArgs(
                s3_bucket_name=self.report_bucket.bucket.bucket,
                s3_key_prefix=kind,
                formats=["CSV", "JSON"],
            ),
            report_setting=aws.backup.ReportPlanReportSettingArgs(
                report_template=template,
                regions=[self._args.primary_region, self._args.dr_region],
            ),
            tags=tags,
            opts=self._in(self._args.primary_region),
        )

    def _framework(self, tags: dict[str, str]) -> aws.backup.Framework:
        args = self._args
        min_retention = min(rule.delete_after_days for tier in args.tiers for rule in tier.rules)
        protected_types = list(RESOURCE_ARN_PATTERNS)

        def param(name: str, value: object) -> aws.backup.FrameworkControlInputParameterArgs:
            return aws.backup.FrameworkControlInputParameterArgs(name=name, value=str(value))

        scope = aws.backup.FrameworkControlScopeArgs(compliance_resource_types=protected_types)
        controls = [
            aws.backup.FrameworkControlArgs(
                name="BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
                input_parameters=[
                    param("requiredFrequencyUnit", "hours"),
                    param("requiredFrequencyValue", args.audit_frequency_hours),
                    param("requiredRetentionDays", min_retention),
                ],
            ),
            aws.backup.FrameworkControlArgs(name="BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN", scope=scope),
            aws.backup.FrameworkControlArgs(name="BACKUP_RECOVERY_POINT_ENCRYPTED"),
            aws.backup.FrameworkControlArgs(
                name="BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK",
                input_parameters=[param("requiredRetentionDays", min(min_retention, args.lock_min_retention_days))],
            ),
            aws.backup.FrameworkControlArgs(
                name="BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION",
                input_parameters=[param("crossRegionList", args.dr_region)],
                scope=scope,
            ),
            aws.backup.FrameworkControlArgs(
                name="BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK",
                input_parameters=[
                    param("minRetentionDays", args.lock_min_retention_days),
                    param("maxRetentionDays", args.lock_max_retention_days),
                ],
                scope=scope,
            ),
        ]
        # Audit Manager evaluates controls with AWS Config: declared after the recorder (when this
        # component declares one) so the first evaluation finds recording on.
        return aws.backup.Framework(
            f"{self._name}-framework",
            name=_identifier(f"{self._name}_controls"),
            description="SecureCart backup policy: frequency, retention, encryption, DR copies, vault lock",
            controls=controls,
            tags=tags,
            opts=self._in(args.primary_region,
                          depends_on=[self.config_recorder] if self.config_recorder is not None else None),
        )

    def _restore_testing(self, region: str, tags: dict[str, str]) -> None:
        """A weekly plan per region: the primary vault's recovery points, the DR vault's copies.

        Selections exist only for types a tested tier holds (no selection that matches nothing).
        In the primary region they pick the tier's resources by tag; the DR vault is this stack's
        own, so its plan takes every copy of the tested types in it.
        """
        tested = [tier for tier in self._args.tiers if tier.restore_testing]
        wanted = {(tier.name, t) for tier in tested for t in tier.resource_types if t in RESTORE_TESTED_RESOURCE_TYPES}
        if not wanted:
            return
        is_primary = region == self._args.primary_region
        where = "primary" if is_primary else "dr"
        plan = aws.backup.RestoreTestingPlan(
            f"{self._name}-restore-testing-{where}",
            name=_identifier(f"{self._name}_restore_testing_{where}"),
            schedule_expression="cron(0 6 ? * SAT *)",  # weekly, Saturday 06:00 UTC
            start_window_hours=24,
            recovery_point_selection=aws.backup.RestoreTestingPlanRecoveryPointSelectionArgs(
                algorithm="LATEST_WITHIN_WINDOW",
                include_vaults=[self.vaults[region].arn],
                recovery_point_types=["SNAPSHOT"],
                selection_window_days=7,
            ),
            tags=tags,
            opts=self._in(region),
        )
        self.restore_testing_plans[region] = plan
        selections = sorted(wanted) if is_primary else sorted({("copies", t) for _, t in wanted})
        for tier_name, resource_type in selections:
            key = f"{where}-{tier_name}-{resource_type.lower()}"
            conditions = None
            if is_primary:
                # "*" plus conditions = every resource of the type carrying the tier tag.
                conditions = aws.backup.RestoreTestingSelectionProtectedResourceConditionsArgs(
                    string_equals=[aws.backup.RestoreTestingSelectionProtectedResourceConditionsStringEqualArgs(
                        key=f"aws:ResourceTag/{BACKUP_TIER_TAG}", value=tier_name)])
            self.restore_testing_selections[key] = aws.backup.RestoreTestingSelection(
                f"{self._name}-restore-testing-{key}",
                name=_identifier(f"{where}_{tier_name}_{resource_type}"),
                restore_testing_plan_name=plan.name,
                protected_resource_type=resource_type,
                iam_role_arn=self.backup_role.arn,
                protected_resource_arns=["*"],
                protected_resource_conditions=conditions,
                validation_window_hours=2,
                opts=self._in(region),
            )
