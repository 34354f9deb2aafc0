"""Benchmark of the lab's AWS Backup, RDS snapshots and archive. Prints figures.

    .venv/bin/python -m bench.backup_lab [--repeat 3] [--items 500] [--objects 50] [--alarm-factor 0.001]

One lab (loopback, its own PostgreSQL) with a DynamoDB table, an S3 bucket and an RDS instance.
Per round, in lab seconds, from the API call to the job's end as DescribeXJob reports it:
- backup, copy to the DR vault, and restore, per kind (DynamoDB with `--items` items, S3 with
  `--objects` objects, RDS);
- CreateDBSnapshot and RestoreDBInstanceFromDBSnapshot call times, and the archive export;
- time to alarm: a backup job failed by a fault rule until the `NumberOfBackupJobsFailed` alarm's
  SNS message reaches a subscribed SQS queue, at `--alarm-factor` (lab seconds per AWS second),
  shown in AWS-equivalent seconds too (AWS: events "every 5 minutes" + alarm evaluation).
Medians (min-max) over the rounds (time to alarm: one run). Nothing here is asserted: it is for the report.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any, Callable

from tenacity import retry, retry_if_result, stop_after_delay, wait_fixed

from tests.lab._lab_fixtures import DR, PRIMARY, client, inventory

ROLE = "arn:aws:iam::123456789012:role/bench"


def bench_inventory() -> dict[str, Any]:
    inv = inventory()
    inv["workloads"] = {k: v for k, v in inv["workloads"].items() if k in ("catalog", "images")}
    inv["workloads"]["orders"] = {
        "kind": "rds", "strategy": "backup-restore", "targets": {"rto_seconds": 3600, "rpo_seconds": 3600},
        "primary_region": PRIMARY, "dr_region": DR,
        "stores": {"primary": {"identifier": "orders-bench", "arn": "arn:x", "region": PRIMARY, "engine": "postgres",
                               "engine_version": "15", "db_name": "orders", "master_username": "securecart",
                               "multi_az": False, "availability_zone": f"{PRIMARY}a", "backup_retention_days": 0,
                               "instance_class": "db.t4g.medium"},
                   "replicas": [], "archive_bucket": {"name": "bench-archive", "arn": "arn:y", "region": PRIMARY}},
        "failover": None, "backup": {"tier": "gold", "plan_name": "daily", "continuous": False}, "fis_templates": {}}
    return inv


def until(check: Callable[[], Any], timeout: float = 300.0) -> Any:
    @retry(stop=stop_after_delay(timeout), wait=wait_fixed(0.02), retry=retry_if_result(lambda r: not r))
    def attempt() -> Any:
        return check()
    return attempt()


def timed(start: Callable[[], str], describe: Callable[[str], dict], key: str) -> tuple[float, dict]:
    began = time.monotonic()
    job_id = start()
    done = until(lambda: (lambda j: j if j[key] in ("COMPLETED", "FAILED") else None)(describe(job_id)))
    if done[key] != "COMPLETED":
        raise SystemExit(f"bench: job {job_id} ended {done[key]}: {done.get('StatusMessage')}")
    return time.monotonic() - began, done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backup_lab")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--objects", type=int, default=50)
    parser.add_argument("--alarm-factor", type=float, default=0.001)
    args = parser.parse_args(argv)
    from chaos.lab.process import LabClient
    from chaos.lab.server import LabServer

    figures: dict[str, list[float]] = {}

    def record(name: str, seconds: float) -> None:
        figures.setdefault(name, []).append(seconds)

    with LabServer(time_factor=0.02) as server:
        lab = LabClient(server.endpoint)
        lab.deploy(bench_inventory(), time_factor=0.02)
        endpoint = server.endpoint
        backup, backup_dr = client(endpoint, "backup", PRIMARY), client(endpoint, "backup", DR)
        ddb, s3, rds = (client(endpoint, s, PRIMARY) for s in ("dynamodb", "s3", "rds"))
        for i in range(0, args.items, 25):
            ddb.batch_write_item(RequestItems={"catalog": [{"PutRequest": {"Item": {"pk": {"S": f"p{j}"}, "sk": {"S": "x"}}}}
                                                           for j in range(i, min(i + 25, args.items))]})
        for i in range(args.objects):
            s3.put_object(Bucket="images-primary", Key=f"o{i}", Body=b"x" * 1024)
        resources = {"DynamoDB": f"arn:aws:dynamodb:{PRIMARY}:123456789012:table/catalog",
                     "S3": "arn:aws:s3:::images-primary", "RDS": f"arn:aws:rds:{PRIMARY}:123456789012:db:orders-bench"}
        dr_vault = f"arn:aws:backup:{DR}:123456789012:backup-vault:vault-dr"
        for round_no in range(args.repeat):
            for kind, arn in resources.items():
                seconds, job = timed(lambda: backup.start_backup_job(BackupVaultName="vault-primary", ResourceArn=arn,
                                                                     IamRoleArn=ROLE)["BackupJobId"],
                                     lambda j: backup.describe_backup_job(BackupJobId=j), "State")
                record(f"{kind} backup job", seconds)
                seconds, copy = timed(lambda: backup.start_copy_job(
                    RecoveryPointArn=job["RecoveryPointArn"], SourceBackupVaultName="vault-primary",
                    DestinationBackupVaultArn=dr_vault, IamRoleArn=ROLE)["CopyJobId"],
                    lambda j: backup.describe_copy_job(CopyJobId=j)["CopyJob"], "State")
                record(f"{kind} copy job to DR", seconds)
                metadata = {"DynamoDB": {"targetTableName": f"bench-{round_no}"},
                            "S3": {"DestinationBucketName": f"bench-{round_no}"},
                            "RDS": {"DBInstanceIdentifier": f"bench-{round_no}"}}[kind]
                seconds, _ = timed(lambda: backup_dr.start_restore_job(
                    RecoveryPointArn=copy["DestinationRecoveryPointArn"], IamRoleArn=ROLE, Metadata=metadata)["RestoreJobId"],
                    lambda j: backup_dr.describe_restore_job(RestoreJobId=j), "Status")
                record(f"{kind} restore job in DR", seconds)
            began = time.monotonic()
            rds.create_db_snapshot(DBInstanceIdentifier="orders-bench", DBSnapshotIdentifier=f"snap-{round_no}")
            record("CreateDBSnapshot call", time.monotonic() - began)
            began = time.monotonic()
            rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=f"from-snap-{round_no}",
                                                     DBSnapshotIdentifier=f"snap-{round_no}")
            record("RestoreDBInstanceFromDBSnapshot call", time.monotonic() - began)
            began = time.monotonic()
            lab.export_snapshot(PRIMARY, "orders-bench", "bench-archive", key=f"export-{round_no}.dump")
            record("archive export (pg_dump of the snapshot)", time.monotonic() - began)
        # Once: a second alarm would see the first failure's datapoint still inside its one-hour period.
        record("time to alarm", _time_to_alarm(endpoint, lab, resources["DynamoDB"], args.alarm_factor))

    print(f"backup lab, {args.repeat} round(s), {args.items} items, {args.objects} objects; lab seconds, median (min-max)")
    for name, values in figures.items():
        line = f"  {name:45s} {statistics.median(values):8.3f} ({min(values):.3f}-{max(values):.3f})"
        if name == "time to alarm":
            line += f"   = {statistics.median(values) / args.alarm_factor:.0f} AWS-equivalent s at factor {args.alarm_factor:g}"
        print(line)
    return 0


def _time_to_alarm(endpoint: str, lab: Any, arn: str, factor: float) -> float:
    sns, sqs, cw = (client(endpoint, s, PRIMARY) for s in ("sns", "sqs", "cloudwatch"))
    topic = sns.create_topic(Name="bench-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="bench-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    cw.put_metric_alarm(AlarmName="bench-failed", Namespace="AWS/Backup", MetricName="NumberOfBackupJobsFailed",
                        Statistic="Sum", Period=3600, EvaluationPeriods=1, Threshold=0,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching", AlarmActions=[topic])
    lab.set_backup_time_factor(factor)
    lab.add_faults([{"service": "backup", "operation": "BackupJob", "resource": arn}])
    try:
        began = time.monotonic()
        client(endpoint, "backup", PRIMARY).start_backup_job(BackupVaultName="vault-primary", ResourceArn=arn, IamRoleArn=ROLE)
        until(lambda: sqs.receive_message(QueueUrl=queue).get("Messages"))
        return time.monotonic() - began
    finally:
        lab.clear_faults()
        lab.set_backup_time_factor(0.02)


if __name__ == "__main__":
    sys.exit(main())
