"""Restores after an accidental deletion, to a point in time just before it.

- dynamodb: `RestoreTableToPointInTime` into a new table (`<table>-restored-<run>`), wait ACTIVE,
  switch the application to it.
- s3: remove the delete markers the deletion wrote over the canary's objects (versioning keeps
  the data), so the previous versions are current again; the bucket stays the same.
- rds: `RestoreDBInstanceToPointInTime` into a new instance (`<id>-restored-<run>`), wait until
  it is available and accepts writes, switch the application to it.
The restore time is the deletion's start as the harness recorded it; on AWS an operator reads it
from CloudTrail.
"""
from __future__ import annotations

from datetime import datetime, timezone

from chaos.runbooks.context import RunbookContext
from chaos.workload import postgres
from chaos.workload.stores import RecordStream, StoreRef

S3_BATCH = 1000


def _restore_time(ctx: RunbookContext) -> datetime:
    return datetime.fromtimestamp(ctx.fault_time, tz=timezone.utc)


def restore_dynamodb_table(ctx: RunbookContext) -> None:
    source = ctx.routing.current
    restored = StoreRef(source.kind, source.region, f"{source.name}-restored-{ctx.short_run}")
    ctx.started("dynamodb-point-in-time-restore")
    client = ctx.target.client("dynamodb", source.region)
    client.restore_table_to_point_in_time(SourceTableName=source.name,
                                          TargetTableName=restored.name,
                                          RestoreDateTime=_restore_time(ctx))
    ctx.wait_until(f"table {restored.name} ACTIVE", lambda: client.describe_table(
        TableName=restored.name)["Table"]["TableStatus"] == "ACTIVE")
    ctx.routing.switch(restored)
    ctx.done(f"restored {source.name} as of the deletion into {restored.name}; application switched")


def remove_s3_delete_markers(ctx: RunbookContext, stream: RecordStream) -> None:
    store = ctx.routing.current
    ctx.started("s3-restore-object-versions")
    client = ctx.target.client("s3", store.region)
    markers = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=store.name,
                                                                      Prefix=stream.s3_prefix):
        markers += [{"Key": m["Key"], "VersionId": m["VersionId"]}
                    for m in page.get("DeleteMarkers", []) if m.get("IsLatest")]
    for start in range(0, len(markers), S3_BATCH):
        client.delete_objects(Bucket=store.name,
                              Delete={"Objects": markers[start:start + S3_BATCH], "Quiet": True})
    ctx.done(f"removed {len(markers)} delete markers in {store.name}: previous versions current again")


def restore_rds_instance(ctx: RunbookContext) -> None:
    source = ctx.routing.current
    restored = StoreRef(source.kind, source.region, f"{source.name}-restored-{ctx.short_run}")
    ctx.started("rds-point-in-time-restore")
    client = ctx.target.client("rds", source.region)
    client.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier=source.name,
                                                TargetDBInstanceIdentifier=restored.name,
                                                RestoreTime=_restore_time(ctx))
    ctx.wait_until(f"instance {restored.name} available",
                   lambda: postgres.available_and_writable(ctx.target, ctx.workload, restored))
    ctx.routing.switch(restored)
    ctx.done(f"restored {source.name} as of the deletion into {restored.name}; application switched")
