"""A tap on a DynamoDB table's change stream: every committed write, with its commit time.

moto calls `table.stream_shard.add(old, new)` on every PutItem, UpdateItem, DeleteItem (batch,
transaction and PartiQL writes included), inside the request, before the response is sent. The tap
is a `StreamShard` subclass installed on the table: it keeps moto's own stream records when the
table has a stream, and hands each change to its sinks (global-table replication, the
point-in-time log). So a change is recorded before the client sees its acknowledgement.

Writes the replicator applies to a replica are marked (`applying_replica_write`) so replication does
not echo them back, while the replica's own point-in-time log still records them.
"""
from __future__ import annotations

import copy
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from moto.dynamodb.models.table import StreamShard

from chaos.lab import motostate

_local = threading.local()


@dataclass(frozen=True)
class TableChange:
    """One committed write: `item` is a frozen copy of the new item, None for a delete."""

    t: float
    region: str
    table: str
    key: tuple[Any, Any]
    item: Any | None
    from_replication: bool

    def attributes(self) -> dict[str, Any] | None:
        """The item in DynamoDB JSON, as moto's put_item takes it."""
        return None if self.item is None else self.item.to_json()["Attributes"]


ChangeSink = Callable[[TableChange], None]


@contextmanager
def applying_replica_write() -> Iterator[None]:
    _local.replicating = True
    try:
        yield
    finally:
        _local.replicating = False


class ChangeTap(StreamShard):
    """Installed as `table.stream_shard`; moto's stream records are kept only if the table has a stream."""

    def __init__(self, table: Any, region: str):
        super().__init__(motostate.ACCOUNT_ID, table)
        self.region = region
        self.sinks: list[ChangeSink] = []

    def add(self, old: Any, new: Any) -> None:
        spec = self.table.stream_specification
        if spec and spec.get("StreamEnabled"):
            super().add(old, new)
        changed = new if new is not None else old
        change = TableChange(
            t=time.time(),
            region=self.region,
            table=self.table.name,
            key=(changed.hash_key, changed.range_key),
            item=copy.deepcopy(new) if new is not None else None,
            from_replication=getattr(_local, "replicating", False),
        )
        for sink in self.sinks:
            sink(change)


def tap(region: str, table_name: str) -> ChangeTap:
    """The tap on this table, installing it on first use (it replaces moto's plain shard)."""
    table = motostate.dynamodb_table(region, table_name)
    if table is None:
        raise KeyError(f"DynamoDB table {table_name} does not exist in {region}")
    if not isinstance(table.stream_shard, ChangeTap):
        existing = table.stream_shard
        change_tap = ChangeTap(table, region)
        if existing is not None:  # keep stream records written before the tap
            change_tap.id, change_tap.items = existing.id, existing.items
            change_tap.created_on = existing.created_on
        table.stream_shard = change_tap
    return table.stream_shard


def write_item(region: str, table_name: str, key: tuple[Any, Any],
               attributes: dict[str, Any] | None) -> None:
    """Apply one replicated or replayed change to a table, as its stream would show it."""
    table = motostate.dynamodb_table(region, table_name)
    if table is None:
        raise KeyError(f"DynamoDB table {table_name} does not exist in {region}")
    if attributes is None:
        table.delete_item(key[0], key[1])
    else:
        table.put_item(attributes, overwrite=True)
