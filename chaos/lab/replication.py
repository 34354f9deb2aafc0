"""Cross-region replication that moto lacks: DynamoDB global tables and S3 CRR, emulated.

Each replicated store gets one `Link` per direction it ships in (a global table is multi-active, so
it replicates both ways; S3 CRR goes from the source bucket to each replica). A link is a FIFO of
committed changes; the shipper thread applies the head once it is `lag_seconds` old, unless the
link is paused or either region is under a region outage (then the changes stay queued: the
backlog is exactly what a failover to the DR region would lose).

- DynamoDB: changes come from the table's change tap (chaos.lab.changetap); last writer wins per
  item by commit time, as global tables reconcile concurrent writes.
- S3: changes come from the middleware after a successful PutObject/CopyObject/
  CompleteMultipartUpload (new version) or DeleteObject(s) without a version id (delete marker).
  The replica gets the same version id, as CRR preserves it. Deleting a specific version is not
  replicated (nor is it on S3).
- RDS cross-region replicas are PostgreSQL streaming replicas run by the data plane (H4); their
  links are listed next to these ones by the lab core.

A lag of 0 ships inside the write itself (synchronous), so "lag 0" really means no window.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from chaos.lab import changetap, motostate
from chaos.lab.changetap import TableChange

# Lags come from chaos.lab.timing (AWS figures under the aws profile, fixed ones under mechanics).


@dataclass(frozen=True)
class ObjectChange:
    """One S3 version to replicate: `source_key` is None for a delete marker."""

    t: float
    key: str
    version_id: str
    source_key: Any | None


@dataclass
class Link:
    workload: str
    kind: str
    source_region: str
    target_region: str
    source: str
    target: str
    lag_seconds: float
    paused: bool = False
    queue: deque = field(default_factory=deque)
    shipped: int = 0
    failed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"workload": self.workload, "kind": self.kind, "source_region": self.source_region,
                "target_region": self.target_region, "source": self.source, "target": self.target,
                "lag_seconds": self.lag_seconds, "paused": self.paused, "backlog": len(self.queue)}


class ReplicationEngine:
    """Owns the links and the shipper thread. Thread-safe; `close()` stops the thread."""

    def __init__(self, on_event: Callable[..., Any] = lambda kind, **detail: None):
        self._links: list[Link] = []
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._blocked_regions: frozenset[str] = frozenset()
        # Last commit time per (region, table, key): the last-writer-wins clock of global tables.
        self._last_write: dict[tuple[str, str, Any], float] = {}
        self._on_event = on_event
        self._thread = threading.Thread(target=self._ship_forever, name="lab-replication", daemon=True)
        self._thread.start()

    # --- wiring (deploy) -------------------------------------------------------------------------------

    def add_dynamodb_global_table(self, workload: str, table: str, regions: list[str],
                                  lag_seconds: float) -> list[Link]:
        new_links = [Link(workload, "dynamodb", source, target, table, table, lag_seconds)
                     for source in regions for target in regions if source != target]
        with self._lock:
            self._links.extend(new_links)
        for region in regions:
            changetap.tap(region, table).sinks.append(self._record_table_change)
        return new_links

    def add_s3_replication(self, workload: str, bucket: str, bucket_region: str,
                           replica: str, replica_region: str, lag_seconds: float) -> Link:
        link = Link(workload, "s3", bucket_region, replica_region, bucket, replica, lag_seconds)
        with self._lock:
            self._links.append(link)
        return link

    def clear(self) -> None:
        with self._lock:
            self._links = []
            self._last_write.clear()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    # --- control (/_lab/replication, region outages) -------------------------------------------------

    def links(self) -> list[dict[str, Any]]:
        with self._lock:
            return [link.to_json() for link in self._links]

    def configure(self, workload: str | None, paused: bool | None, lag_seconds: float | None) -> None:
        with self._lock:
            for link in self._links:
                if workload is None or link.workload == workload:
                    if paused is not None:
                        link.paused = paused
                    if lag_seconds is not None:
                        link.lag_seconds = lag_seconds
        self._wake.set()

    def workloads(self) -> set[str]:
        with self._lock:
            return {link.workload for link in self._links}

    def set_blocked_regions(self, regions: frozenset[str]) -> None:
        with self._lock:
            newly_blocked = regions - self._blocked_regions
            self._blocked_regions = regions
            for link in self._links:
                if {link.source_region, link.target_region} & newly_blocked:
                    self._on_event("replication_halted", workload=link.workload, store=link.kind,
                                   source_region=link.source_region,
                                   target_region=link.target_region, backlog=len(link.queue))
        self._wake.set()

    # --- capture ----------------------------------------------------------------------------------------

    def _record_table_change(self, change: TableChange) -> None:
        if change.from_replication:
            return  # a replica applying a shipped change must not ship it back
        with self._lock:
            self._last_write[(change.region, change.table, change.key)] = change.t
            for link in self._links:
                if link.kind == "dynamodb" and link.source_region == change.region \
                        and link.source == change.table:
                    self._enqueue(link, change)

    def record_object_change(self, bucket: str, key: str, version_id: str,
                             source_key: Any | None) -> None:
        change = ObjectChange(t=time.time(), key=key, version_id=version_id, source_key=source_key)
        with self._lock:
            for link in self._links:
                if link.kind == "s3" and link.source == bucket:
                    self._enqueue(link, change)

    def is_replicated_bucket(self, bucket: str) -> bool:
        with self._lock:
            return any(link.kind == "s3" and link.source == bucket for link in self._links)

    def _enqueue(self, link: Link, change: Any) -> None:
        if link.lag_seconds <= 0 and not link.queue and self._can_ship(link):
            self._apply(link, change)  # synchronous: shipped before the write is acknowledged
            return
        link.queue.append(change)
        self._wake.set()

    # --- shipping ---------------------------------------------------------------------------------------

    def _can_ship(self, link: Link) -> bool:
        return not link.paused and not ({link.source_region, link.target_region} & self._blocked_regions)

    def _ship_forever(self) -> None:
        while not self._stop.is_set():
            next_due = self._ship_due(time.time())
            timeout = 0.05 if next_due is None else max(0.0, min(0.05, next_due - time.time()))
            self._wake.wait(timeout)
            self._wake.clear()

    def _ship_due(self, now: float) -> float | None:
        """Apply every change that is old enough; return when the next one falls due."""
        next_due: float | None = None
        with self._lock:
            for link in self._links:
                if not self._can_ship(link):
                    continue
                while link.queue and link.queue[0].t + link.lag_seconds <= now:
                    self._apply(link, link.queue.popleft())
                if link.queue:
                    due = link.queue[0].t + link.lag_seconds
                    next_due = due if next_due is None else min(next_due, due)
        return next_due

    def _apply(self, link: Link, change: Any) -> None:
        try:
            if link.kind == "dynamodb":
                self._apply_table_change(link, change)
            else:
                self._apply_object_change(link, change)
            link.shipped += 1
        except Exception as error:  # a replica that vanished must not kill the shipper
            link.failed += 1
            self._on_event("replication_failed", workload=link.workload, target=link.target,
                           target_region=link.target_region, error=str(error))

    def _apply_table_change(self, link: Link, change: TableChange) -> None:
        clock_key = (link.target_region, link.target, change.key)
        if self._last_write.get(clock_key, 0.0) > change.t:
            return  # a newer write won in the target region (last writer wins)
        self._last_write[clock_key] = change.t
        with changetap.applying_replica_write():
            changetap.write_item(link.target_region, link.target, change.key, change.attributes())

    @staticmethod
    def _apply_object_change(link: Link, change: ObjectChange) -> None:
        backend = motostate.s3_backend()
        if change.source_key is None:
            backend.delete_object(link.target, change.key)
            replicated = backend.get_bucket(link.target).keys.getlist(change.key)[-1]
        else:
            source = change.source_key
            replicated = backend.put_object(link.target, change.key, source.value,
                                            storage=source.storage_class,
                                            disable_notification=True)
            replicated.set_metadata(dict(source.metadata))
        replicated._version_id = change.version_id  # CRR keeps the source's version id
