"""AWS timing figures: the single table every envelope, default target, alarm and lab delay reads.

Each figure is what AWS publishes (or, where AWS publishes nothing, a conservative estimate that
says so), with the page it was read from and the date read. Durations are in seconds.

Shape: ``typical_seconds`` is what AWS says usually happens; ``worst_seconds`` is the bound the
envelope uses (AWS's stated bound, or the estimate's). ``None`` means AWS states no number for that
side: the bound then comes from what the program provisions (an alarm threshold, a schedule), never
from a guess. The lab (issue 13, "lab time shaped like AWS") draws its emulated delays from the same
shape.

Change a figure only with a new source: edit ``source``, ``read_on`` and the numbers together.
"""

from __future__ import annotations

from dataclasses import dataclass

READ_ON = "2026-11-30"


@dataclass(frozen=True)
class Figure:
    """One AWS timing figure."""

    key: str
    title: str
    typical_seconds: float | None
    worst_seconds: float | None
    source: str  # URL of the AWS page the figure was read from
    read_on: str
    quote: str  # what the page says, in short, so a reviewer can check it against the source
    estimate: bool = False  # True: AWS publishes no figure; the numbers are our documented estimate

    @property
    def label(self) -> str:
        return f"{self.title} (estimate)" if self.estimate else self.title


def _figure(key: str, title: str, typical: float | None, worst: float | None, source: str, quote: str,
            *, estimate: bool = False) -> Figure:
    return Figure(key=key, title=title, typical_seconds=typical, worst_seconds=worst, source=source,
                  read_on=READ_ON, quote=quote, estimate=estimate)


_TABLE: tuple[Figure, ...] = (
    # ----- Route 53 ---------------------------------------------------------------------------
    _figure(
        "route53.health_check_interval", "Route 53 health-check request interval", None, None,
        "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html",
        "you can specify the interval between checks: every 10 seconds or every 30 seconds; an endpoint "
        "changes status after the failure threshold of consecutive checks (detection = interval x threshold)",
    ),
    _figure(
        "route53.http_check_timeout", "Route 53 HTTP(S) health-check response time limit", 6, 6,
        "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html",
        "HTTP and HTTPS health checks: TCP connection within four seconds, then a 2xx/3xx status "
        "within two seconds after connecting (the failing check itself takes up to 4 + 2 s)",
    ),
    _figure(
        "route53.dns_ttl", "DNS TTL on health-checked records (resolvers cache the old answer)", None, None,
        "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-values-failover.html",
        "TTL: the time DNS recursive resolvers cache this record; with a health check, AWS recommends "
        "a TTL of 60 seconds or less (the stack's ttlSeconds is the term used)",
    ),
    # ----- RDS --------------------------------------------------------------------------------
    _figure(
        "rds.multi_az_instance_failover", "RDS Multi-AZ DB instance failover", 60, 120,
        "https://docs.amazonaws.cn/en_us/AmazonRDS/latest/UserGuide/Concepts.MultiAZ.Failover.md",
        "Failover times are typically 60-120 seconds. However, large transactions or a lengthy "
        "recovery process can increase failover time",
    ),
    _figure(
        "rds.multi_az_cluster_failover", "RDS Multi-AZ DB cluster failover", None, 35,
        "https://docs.aws.amazon.com/goto/WebAPI/rds/FailoverDBCluster",
        "For a Multi-AZ DB cluster ... Failover times are typically less than 35 seconds",
    ),
    _figure(
        "rds.multi_az_sync", "RDS Multi-AZ DB instance: synchronous standby (no acknowledged write lost)", 0, 0,
        "https://docs.amazonaws.cn/en_us/AmazonRDS/latest/UserGuide/Concepts.MultiAZSingleStandby.md",
        "Amazon RDS automatically provisions and maintains a synchronous standby replica in a different "
        "Availability Zone",
    ),
    _figure(
        "rds.read_replica_promotion", "RDS cross-region read replica promotion", 300, 900,
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html",
        "RDS reboots the DB instance before making it available. The promotion process can take "
        "several minutes or longer to complete, depending on the size of the read replica "
        "(AWS gives no number: 5 min typical / 15 min worst is our estimate of 'several minutes or longer')",
        estimate=True,
    ),
    _figure(
        "rds.cross_region_replica_lag", "RDS cross-region read replica lag (asynchronous)", None, None,
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html",
        "read replica promotion as data recovery: be aware of the ramifications and limitations of "
        "asynchronous replication (no bound published: the ReplicaLag alarm threshold is the bound)",
    ),
    _figure(
        "rds.pitr_latest_restorable", "RDS point-in-time restore: latest restorable time behind now", None, 300,
        "http://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html",
        "The latest restorable time for a DB instance is typically within 5 minutes of the current time",
    ),
    # ----- DynamoDB ---------------------------------------------------------------------------
    _figure(
        "dynamodb.mrec_replication", "DynamoDB global tables, eventual (MREC) replication", 1, None,
        "https://docs.aws.amazon.com/prescriptive-guidance/latest/dynamodb-global-tables/overview.html",
        "Newly written items are usually propagated to all replica tables within a second ... "
        "There is no SLA for this latency (asynchronous: the ReplicationLatency alarm threshold is the bound)",
    ),
    _figure(
        "dynamodb.mrsc_replication", "DynamoDB global tables, multi-Region strong consistency (MRSC)", 0, 0,
        "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateGlobalTableWitnessGroupMemberAction.html",
        "A MRSC global table can be configured with either three replicas, or with two replicas and one "
        "witness, within one Region set (US: us-east-1, us-east-2, us-west-2); global tables give "
        "'a low or zero Recovery Point Objective' (developerguide/GlobalTables.html): zero with MRSC",
    ),
    _figure(
        "dynamodb.pitr_latest_restorable", "DynamoDB PITR: latest restorable time behind now", None, 300,
        "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoveryDescription.html",
        "LatestRestorableDateTime is typically 5 minutes before the current time",
    ),
    # ----- S3 ---------------------------------------------------------------------------------
    _figure(
        "s3.rtc_replication", "S3 cross-region replication with Replication Time Control", 1, 900,
        "https://docs.aws.amazon.com/ja_jp/AmazonS3/latest/dev/replication-walkthrough-5.html",
        "S3 RTC replicates most objects you upload in seconds, and 99.99 percent of them within "
        "15 minutes (SLA: https://aws.amazon.com/s3/sla-rtc/, monthly 15-minute replication percentage)",
    ),
    _figure(
        "s3.versioning_restore", "S3 versioning: a deleted object's previous version stays in the bucket", 0, 0,
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeleteMarker.html",
        "a simple DELETE in a versioning-enabled bucket does not delete the object, it adds a delete marker; "
        "all versions remain and deleting the marker undeletes the object (ManagingDelMarkers.html)",
    ),
    # ----- EFS --------------------------------------------------------------------------------
    _figure(
        "efs.replication", "EFS replication to another region", 60, 900,
        "https://aws.amazon.com/blogs/aws/new-replication-for-amazon-elastic-file-system-efs/",
        "most changes are replicated within a minute, with an overall Recovery Point Objective (RPO) "
        "of 15 minutes for most file systems (AWS News Blog, 2022-01-25, read via its verbatim copy at "
        "stackovercloud.com/2022/01/25/new-replication-for-amazon-elastic-file-system-efs/); changes after "
        "the Last synced time may not be replicated (docs.aws.amazon.com/efs/latest/ug/efs-replication.html)",
    ),
    # ----- AWS Backup -------------------------------------------------------------------------
    _figure(
        "backup.continuous_pitr", "AWS Backup continuous backup (point in time, in-region only)", 1, 300,
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/point-in-time-recovery.html",
        "restore ... within 1 second of precision (going back a maximum of 35 days); the service's latest "
        "restorable time (RDS, DynamoDB: typically 5 minutes) bounds it. A cross-Region copy of a "
        "continuous backup becomes a snapshot: PITR is not available for copies "
        "(recov-point-create-a-copy.html, point-in-time-recovery-copying.html)",
    ),
    _figure(
        "pitr.precision", "Point-in-time restore precision (RDS, DynamoDB, AWS Backup continuous)", 1, 1,
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/point-in-time-recovery.html",
        "you can restore ... by rewinding it back to a specific time that you choose, within 1 second of precision",
    ),
    _figure(
        "backup.start_window_minimum", "AWS Backup rule start window (minimum)", 3600, None,
        "https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/backup/aws.sdk.kotlin.services.backup.model/-backup-rule-input/start-window-minutes.html",
        "StartWindowMinutes: if included, it must be at least 60 minutes; the job stays CREATED until it "
        "begins, retried at least every 10 minutes until the start window runs out",
    ),
    _figure(
        "backup.completion_window", "AWS Backup rule completion window", None, None,
        "https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/backup/aws.sdk.kotlin.services.backup.model/-start-backup-job-request/complete-window-minutes.html",
        "CompleteWindowMinutes: the time in which a started backup must complete or Backup cancels it; "
        "it counts from when the backup was scheduled (the rule's value is the term used)",
    ),
    _figure(
        "backup.cross_region_copy", "AWS Backup cross-region copy duration", 3600, 14400,
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/recov-point-create-a-copy.html",
        "copies run after the backup completes; the first copy to a Region is a full copy. AWS publishes "
        "no duration: 1 h typical / 4 h worst is our conservative estimate for this program's sizes",
        estimate=True,
    ),
    _figure(
        "backup.event_publication", "AWS Backup job state changes published to EventBridge (best effort)", None, 300,
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html",
        "AWS Backup emits events to EventBridge in a best-effort manner every 5 minutes (delivery type "
        "'Best effort': eventbridge/latest/ref/events-ref-backup.html); a failed job is announced up to "
        "5 minutes after it fails, and in rare cases not at all",
    ),
    _figure(
        "backup.metric_publication", "AWS Backup job metrics (AWS/Backup NumberOfBackupJobsFailed, ...) published",
        None, 300,
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html",
        "AWS states no publication interval for the AWS/Backup CloudWatch metrics on the pages read; the "
        "5 minutes it states for the same job state changes to EventBridge is our estimate for the metric",
        estimate=True,
    ),
    _figure(
        "backup.job_duration", "AWS Backup job duration (an on-demand backup retried after a failure)", 1800, 3600,
        "https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/backup/aws.sdk.kotlin.services.backup.model/-start-backup-job-request/complete-window-minutes.html",
        "a started backup must complete within CompleteWindowMinutes or Backup cancels it; AWS publishes "
        "no duration: 30 min typical / 1 h worst is our estimate for this program's sizes (incremental "
        "snapshot-based backups)",
        estimate=True,
    ),
    # ----- CloudWatch -------------------------------------------------------------------------
    _figure(
        "cloudwatch.alarm_evaluation", "CloudWatch metric alarm evaluation (period >= 60 s)", 60, None,
        "https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/cloudwatch/aws.sdk.kotlin.services.cloudwatch.model/-put-metric-alarm-request/period.html",
        "Period: the length, in seconds, used each time the metric is evaluated. AWS states an evaluation "
        "every 10 s only for 10/30 s periods (AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html); "
        "for longer periods it states no frequency: once a minute typical is our estimate (the lab's), and "
        "the alarm's own period the worst case (the stack's period is the term used)",
        estimate=True,
    ),
    # ----- DLM --------------------------------------------------------------------------------
    _figure(
        "dlm.schedule_interval", "DLM snapshot schedule interval", None, None,
        "https://docs.aws.amazon.com/dlm/latest/APIReference/API_CreateRule.html",
        "Interval: the supported values are 1, 2, 3, 4, 6, 8, 12, and 24 (hours); the stack's "
        "snapshotIntervalHours is the term used",
    ),
    _figure(
        "dlm.snapshot_and_copy", "DLM snapshot creation + cross-region copy duration", 1800, 7200,
        "https://docs.aws.amazon.com/dlm/latest/APIReference/API_CrossRegionCopyRetainRule.html",
        "cross-Region copy rules copy each snapshot the policy creates; AWS publishes no duration for "
        "creation or copy: 30 min typical / 2 h worst is our conservative estimate",
        estimate=True,
    ),
    # ----- EC2 from zero ----------------------------------------------------------------------
    _figure(
        "ec2.launch_and_boot", "EC2 from zero: Auto Scaling launch, pending -> running, OS and app boot",
        120, 600,
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html",
        "AWS publishes no launch time; the console's default health-check grace period for a new "
        "instance is 300 seconds. 2 min typical / 10 min worst (launch + boot) is our estimate",
        estimate=True,
    ),
    # ----- restores (AWS publishes none) ------------------------------------------------------
    _figure(
        "restore.rds", "Restore RDS from snapshot / to point in time (new instance available)", 1800, 3600,
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html",
        "restore creates a new DB instance; AWS publishes no duration: 30 min typical / 1 h worst is our estimate",
        estimate=True,
    ),
    _figure(
        "restore.dynamodb", "Restore DynamoDB table (PITR or backup) into a new table", 1800, 3600,
        "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoveryDescription.html",
        "restores create a new table; AWS publishes no duration: 30 min typical / 1 h worst is our estimate",
        estimate=True,
    ),
    _figure(
        "restore.s3", "Restore S3 objects from an AWS Backup recovery point", 1800, 7200,
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/recov-point-create-a-copy.html",
        "AWS publishes no duration: 30 min typical / 2 h worst is our estimate",
        estimate=True,
    ),
    _figure(
        "restore.efs", "Restore EFS from an AWS Backup recovery point", 1800, 7200,
        "https://docs.aws.amazon.com/efs/latest/ug/efs-replication.html",
        "AWS publishes no duration: 30 min typical / 2 h worst is our estimate",
        estimate=True,
    ),
    _figure(
        "restore.ebs", "Create EBS volumes from snapshots and attach (data loads lazily)", 300, 900,
        "https://docs.aws.amazon.com/ebs/latest/userguide/snapshot-ami-policy.html",
        "AWS publishes no duration: 5 min typical / 15 min worst is our estimate",
        estimate=True,
    ),
)

FIGURES: dict[str, Figure] = {figure.key: figure for figure in _TABLE}

#: Regions of the US MRSC Region set (the witness and replicas must all be in one set).
MRSC_REGION_SETS: tuple[frozenset[str], ...] = (
    frozenset({"us-east-1", "us-east-2", "us-west-2"}),
    frozenset({"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"}),
    frozenset({"ap-northeast-1", "ap-northeast-2", "ap-northeast-3"}),
)


def figure(key: str) -> Figure:
    """The figure named `key` (KeyError names the unknown key)."""
    return FIGURES[key]


def worst(key: str) -> float:
    """The worst-case value of a figure that has one (ValueError if AWS bounds it by config only)."""
    value = FIGURES[key].worst_seconds
    if value is None:
        raise ValueError(f"{key}: AWS publishes no worst case; the bound comes from the stack config")
    return value


def typical(key: str) -> float:
    """The typical value of a figure that has one."""
    value = FIGURES[key].typical_seconds
    if value is None:
        raise ValueError(f"{key}: AWS publishes no typical value")
    return value


def mrsc_region_set(regions: tuple[str, ...] | list[str]) -> frozenset[str] | None:
    """The MRSC Region set holding all of `regions`, or None (MRSC is then impossible)."""
    return next((region_set for region_set in MRSC_REGION_SETS if set(regions) <= region_set), None)
