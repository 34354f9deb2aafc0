"""Restore after an accidental deletion, to a point in time just before it.

What a restore is depends on the kind (its store's `restore_point_in_time`, chaos/stores/):
DynamoDB and RDS restore into a new table / instance and switch the application to it; S3 removes
the delete markers so the previous versions are current again. The restore time is the
deletion's start as the harness recorded it; on AWS an operator reads it from CloudTrail.
"""
from __future__ import annotations

from chaos.runbooks.context import RunbookContext
from chaos.stores.base import RecordStream


def restore_to_before_fault(ctx: RunbookContext, stream: RecordStream) -> None:
    ctx.workload.stores.restore_point_in_time(ctx, stream)
