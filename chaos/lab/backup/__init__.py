"""The lab's AWS Backup, RDS snapshots and S3 Glacier archive (issue 7, hands-on labs 1-3).

- `clock.py`     the AWS-equivalent clock: lab seconds x 1/time_factor (schedules, lifecycles, locks)
- `providers.py` the per-kind snapshot/restore interface and its registry (one file per kind in `kinds/`)
- `engine.py`    vaults, backup/copy/restore jobs, recovery points, lifecycle, vault lock, restore tests
- `api.py`       the AWS Backup REST-JSON operations the lab answers itself (moto keeps plans/vaults)
- `alarms.py`    AWS/Backup metrics, EventBridge events, CloudWatch alarm evaluation -> SNS
- `rds_snapshots.py` automated and manual RDS snapshots as real PostgreSQL base backups
- `archive.py`   S3 lifecycle transitions, archived-object reads refused, RestoreObject with delay
"""
