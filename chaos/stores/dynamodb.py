"""DynamoDB: a table (a global table when it has replicas).

Canary records are items under one partition key per stream:
{<hash_key>: "canary#<run>#<scenario>", <range_key>: "%08d" % seq, written_at, payload}.
- deletion: `items` deletes the stream's items (BatchWriteItem); `table` drops the table
  (deletion protection switched off first, as the operator who dropped it must have done);
- point-in-time restore: `RestoreTableToPointInTime` into `<table>-restored-<run>`, then the
  application is switched to it;
- regional failover: a global-table replica takes writes already (same table name); the runbook
  only switches the application.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from chaos.stores.base import RecordStream, StoreRef, Stores, blocks, field, optional

if TYPE_CHECKING:
    from chaos.runbooks.context import RunbookContext
    from chaos.targets.base import Target

BATCH = 25  # BatchWriteItem limit


@dataclass(frozen=True)
class DynamoDbStores(Stores):
    kind = "dynamodb"
    deletion_modes = ("items", "table")

    table: str
    region: str
    hash_key: str
    range_key: str
    pitr: bool
    replica_regions: tuple[str, ...]

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> "DynamoDbStores":
        table = field(raw, "table", where, dict)
        return cls(table=field(table, "name", f"{where}.table"),
                   region=field(table, "region", f"{where}.table"),
                   hash_key=optional(table, "hash_key", "pk"),
                   range_key=optional(table, "range_key", "sk"),
                   pitr=bool(table.get("pitr")),
                   replica_regions=tuple(field(r, "region", f"{where}.replicas[{i}]")
                                         for i, r in enumerate(blocks(raw, "replicas", where))))

    def primary(self) -> StoreRef:
        return StoreRef(self.kind, self.region, self.table)

    def replicas(self) -> list[StoreRef]:
        """A global-table replica keeps the table's name in its region."""
        return [StoreRef(self.kind, region, self.table) for region in self.replica_regions]

    # -- canary ------------------------------------------------------------------------------
    def writer(self, target: "Target", *, fail_fast: bool = True) -> "DynamoDbWriter":
        return DynamoDbWriter(target, self, fail_fast=fail_fast)

    def key(self, stream: RecordStream, seq: int) -> dict[str, Any]:
        return {self.hash_key: {"S": stream.key}, self.range_key: {"S": stream.sort_key(seq)}}

    def audit(self, target: "Target", store: StoreRef, stream: RecordStream) -> set[int]:
        """The sequence numbers of `stream` present in `store` (strongly consistent query)."""
        paginator = target.client("dynamodb", store.region).get_paginator("query")
        seqs: set[int] = set()
        for page in paginator.paginate(
                TableName=store.name, ConsistentRead=True, ProjectionExpression="#r",
                ExpressionAttributeNames={"#h": self.hash_key, "#r": self.range_key},
                KeyConditionExpression="#h = :pk",
                ExpressionAttributeValues={":pk": {"S": stream.key}}):
            seqs.update(int(item[self.range_key]["S"]) for item in page["Items"])
        return seqs

    # -- accidental deletion and point-in-time restore --------------------------------------
    def delete(self, target: "Target", store: StoreRef, stream: RecordStream,
               mode: str) -> int | str:
        client = target.client("dynamodb", store.region)
        if mode == "table":
            client.update_table(TableName=store.name, DeletionProtectionEnabled=False)
            client.delete_table(TableName=store.name)
            return "table"
        seqs = sorted(self.audit(target, store, stream))
        for start in range(0, len(seqs), BATCH):
            requests = [{"DeleteRequest": {"Key": self.key(stream, seq)}}
                        for seq in seqs[start:start + BATCH]]
            pending = {store.name: requests}
            while pending:  # BatchWriteItem may hand back unprocessed items; resend them
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
        return len(seqs)

    def why_no_point_in_time_restore(self) -> str | None:
        return None if self.pitr else "the table has no point-in-time recovery to restore from"

    def restore_point_in_time(self, ctx: "RunbookContext", stream: RecordStream) -> None:
        source = ctx.routing.current
        restored = StoreRef(source.kind, source.region, f"{source.name}-restored-{ctx.short_run}")
        ctx.started("dynamodb-point-in-time-restore")
        client = ctx.target.client("dynamodb", source.region)
        client.restore_table_to_point_in_time(
            SourceTableName=source.name, TargetTableName=restored.name,
            RestoreDateTime=datetime.fromtimestamp(ctx.fault_time, tz=timezone.utc))
        ctx.wait_until(f"table {restored.name} ACTIVE", lambda: client.describe_table(
            TableName=restored.name)["Table"]["TableStatus"] == "ACTIVE")
        ctx.routing.switch(restored)
        ctx.done(f"restored {source.name} as of the deletion into {restored.name}; "
                 "application switched")


class DynamoDbWriter:
    """Writes and reads records for one workload; one instance per thread (its own client)."""

    def __init__(self, target: "Target", stores: DynamoDbStores, *, fail_fast: bool = True) -> None:
        self._stores = stores
        self._target = target
        self._fail_fast = fail_fast
        self._clients: dict[str, Any] = {}

    def _client(self, region: str) -> Any:
        if region not in self._clients:
            self._clients[region] = self._target.fresh_client("dynamodb", region,
                                                              fail_fast=self._fail_fast)
        return self._clients[region]

    def write(self, store: StoreRef, stream: RecordStream, seq: int, written_at: float) -> None:
        item = {**self._stores.key(stream, seq), "written_at": {"N": repr(written_at)},
                "payload": {"S": f"order {seq}"}}
        self._client(store.region).put_item(TableName=store.name, Item=item)

    def read(self, store: StoreRef, stream: RecordStream, seq: int) -> bool:
        answer = self._client(store.region).get_item(
            TableName=store.name, Key=self._stores.key(stream, seq), ConsistentRead=True)
        return "Item" in answer

    def close(self) -> None:
        self._clients.clear()
