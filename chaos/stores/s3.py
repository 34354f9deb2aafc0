"""S3: a versioned bucket (with a CRR replica bucket when the strategy keeps one).

Canary records are objects `<role>/<run>/<scenario>/%08d`.
- deletion: `items` deletes the stream's objects (with versioning on, that writes delete
  markers); a bucket has no "table" to drop;
- point-in-time restore: remove the delete markers over the stream's objects, so the previous
  versions are current again (the bucket stays the same);
- regional failover: the CRR replica bucket takes writes already; the runbook only switches the
  application.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaos.stores.base import RecordStream, StoreRef, Stores, blocks, field

if TYPE_CHECKING:
    from chaos.runbooks.context import RunbookContext
    from chaos.targets.base import Target

BATCH = 1000  # DeleteObjects limit


@dataclass(frozen=True)
class S3Stores(Stores):
    kind = "s3"
    deletion_modes = ("items",)

    bucket: str
    region: str
    versioning: bool
    replica_buckets: tuple[StoreRef, ...]

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> "S3Stores":
        bucket = field(raw, "bucket", where, dict)
        return cls(bucket=field(bucket, "name", f"{where}.bucket"),
                   region=field(bucket, "region", f"{where}.bucket"),
                   versioning=bool(bucket.get("versioning")),
                   replica_buckets=tuple(
                       StoreRef(cls.kind, field(r, "region", f"{where}.replicas[{i}]"),
                                field(r, "name", f"{where}.replicas[{i}]"))
                       for i, r in enumerate(blocks(raw, "replicas", where))))

    def primary(self) -> StoreRef:
        return StoreRef(self.kind, self.region, self.bucket)

    def replicas(self) -> list[StoreRef]:
        return list(self.replica_buckets)

    # -- canary ------------------------------------------------------------------------------
    def writer(self, target: "Target", *, fail_fast: bool = True) -> "S3Writer":
        return S3Writer(target, fail_fast=fail_fast)

    def audit(self, target: "Target", store: StoreRef, stream: RecordStream) -> set[int]:
        """The sequence numbers of `stream` whose current version exists in `store`."""
        client = target.client("s3", store.region)
        seqs: set[int] = set()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=store.name,
                                                                     Prefix=stream.s3_prefix):
            seqs.update(int(obj["Key"].rsplit("/", 1)[1]) for obj in page.get("Contents", []))
        return seqs

    # -- accidental deletion and point-in-time restore --------------------------------------
    def delete(self, target: "Target", store: StoreRef, stream: RecordStream,
               mode: str) -> int | str:
        client = target.client("s3", store.region)
        seqs = sorted(self.audit(target, store, stream))
        for start in range(0, len(seqs), BATCH):
            objects = [{"Key": stream.s3_prefix + stream.sort_key(seq)}
                       for seq in seqs[start:start + BATCH]]
            client.delete_objects(Bucket=store.name, Delete={"Objects": objects, "Quiet": True})
        return len(seqs)

    def why_no_point_in_time_restore(self) -> str | None:
        if not self.versioning:
            return "the bucket is not versioned: deleted objects cannot be restored"
        return None

    def restore_point_in_time(self, ctx: "RunbookContext", stream: RecordStream) -> None:
        remove_delete_markers(ctx, stream)


def remove_delete_markers(ctx: "RunbookContext", stream: RecordStream) -> None:
    """Delete the latest delete markers over `stream`'s objects in the application's bucket."""
    store = ctx.routing.current
    ctx.started("s3-restore-object-versions")
    client = ctx.target.client("s3", store.region)
    markers = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=store.name,
                                                                      Prefix=stream.s3_prefix):
        markers += [{"Key": m["Key"], "VersionId": m["VersionId"]}
                    for m in page.get("DeleteMarkers", []) if m.get("IsLatest")]
    for start in range(0, len(markers), BATCH):
        client.delete_objects(Bucket=store.name,
                              Delete={"Objects": markers[start:start + BATCH], "Quiet": True})
    ctx.done(f"removed {len(markers)} delete markers in {store.name}: previous versions current again")


class S3Writer:
    """Writes and reads records for one workload; one instance per thread (its own client)."""

    def __init__(self, target: "Target", *, fail_fast: bool = True) -> None:
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
