"""DynamoDB writer and audit: canary/probe records are items under one partition key per stream.

Item: {<hash_key>: "canary#<run>#<scenario>", <range_key>: "%08d" % seq, written_at, payload}.
"""
from __future__ import annotations

from typing import Any

from chaos.targets.base import Target
from chaos.workload.stores import RecordStream, StoreRef


class DynamoDbWriter:
    """Writes and reads records for one workload; one instance per thread (its own client)."""

    def __init__(self, target: Target, workload: dict[str, Any], *, fail_fast: bool = True) -> None:
        table = workload["stores"]["table"]
        self._hash_key = table.get("hash_key") or "pk"
        self._range_key = table.get("range_key") or "sk"
        self._target = target
        self._fail_fast = fail_fast
        self._clients: dict[str, Any] = {}

    def _client(self, region: str) -> Any:
        if region not in self._clients:
            self._clients[region] = self._target.fresh_client("dynamodb", region,
                                                              fail_fast=self._fail_fast)
        return self._clients[region]

    def _key(self, stream: RecordStream, seq: int) -> dict[str, Any]:
        return {self._hash_key: {"S": stream.key}, self._range_key: {"S": stream.sort_key(seq)}}

    def write(self, store: StoreRef, stream: RecordStream, seq: int, written_at: float) -> None:
        item = {**self._key(stream, seq), "written_at": {"N": repr(written_at)},
                "payload": {"S": f"order {seq}"}}
        self._client(store.region).put_item(TableName=store.name, Item=item)

    def read(self, store: StoreRef, stream: RecordStream, seq: int) -> bool:
        answer = self._client(store.region).get_item(
            TableName=store.name, Key=self._key(stream, seq), ConsistentRead=True)
        return "Item" in answer

    def close(self) -> None:
        self._clients.clear()


def audit(target: Target, workload: dict[str, Any], store: StoreRef,
          stream: RecordStream) -> set[int]:
    """The sequence numbers of `stream` present in `store` (strongly consistent query)."""
    table = workload["stores"]["table"]
    hash_key, range_key = table.get("hash_key") or "pk", table.get("range_key") or "sk"
    client = target.client("dynamodb", store.region)
    paginator = client.get_paginator("query")
    seqs: set[int] = set()
    for page in paginator.paginate(
            TableName=store.name, ConsistentRead=True, ProjectionExpression="#r",
            ExpressionAttributeNames={"#h": hash_key, "#r": range_key},
            KeyConditionExpression="#h = :pk",
            ExpressionAttributeValues={":pk": {"S": stream.key}}):
        seqs.update(int(item[range_key]["S"]) for item in page["Items"])
    return seqs
