"""S3 writer and audit: one object per record under `<role>/<run>/<scenario>/%08d`."""
from __future__ import annotations

import json
from typing import Any

from chaos.targets.base import Target
from chaos.workload.stores import RecordStream, StoreRef


class S3Writer:
    """Writes and reads records for one workload; one instance per thread (its own client)."""

    def __init__(self, target: Target, workload: dict[str, Any], *, fail_fast: bool = True) -> None:
        self._target = target
        self._fail_fast = fail_fast
        self._clients: dict[str, Any] = {}

    def _client(self, region: str) -> Any:
        if region not in self._clients:
            self._clients[region] = self._target.fresh_client("s3", region,
                                                              fail_fast=self._fail_fast)
        return self._clients[region]

    def write(self, store: StoreRef, stream: RecordStream, seq: int, written_at: float) -> None:
        body = json.dumps({"seq": seq, "written_at": written_at, "payload": f"order {seq}"})
        self._client(store.region).put_object(
            Bucket=store.name, Key=stream.s3_prefix + stream.sort_key(seq), Body=body.encode())

    def read(self, store: StoreRef, stream: RecordStream, seq: int) -> bool:
        client = self._client(store.region)
        try:
            client.head_object(Bucket=store.name, Key=stream.s3_prefix + stream.sort_key(seq))
        except client.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def close(self) -> None:
        self._clients.clear()


def audit(target: Target, workload: dict[str, Any], store: StoreRef,
          stream: RecordStream) -> set[int]:
    """The sequence numbers of `stream` whose current version exists in `store`."""
    client = target.client("s3", store.region)
    seqs: set[int] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=store.name,
                                                                 Prefix=stream.s3_prefix):
        seqs.update(int(obj["Key"].rsplit("/", 1)[1]) for obj in page.get("Contents", []))
    return seqs
