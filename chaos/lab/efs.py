"""EFS in the lab: file systems as directory trees (chaos/lab/filestore.py) and EFS replication.

moto holds the file systems' metadata (CreateFileSystem); it has no replication
(`DescribeReplicationConfigurations` is refused). The lab answers the replication calls itself:

- `CreateReplicationConfiguration` / deploy of an inventory replica: the destination file system is
  read-only (writes answer `ReadOnlyFileSystem`), as AWS makes it;
- replication ships every file whose last change is at least `lag_seconds` old, from source to
  destination, one thread for all configurations; it ships nothing into or out of a region under
  outage and nothing while paused (the replication-pause fault);
- `DeleteReplicationConfiguration` stops replication and makes the destination writable: the
  failover step AWS documents (https://docs.aws.amazon.com/efs/latest/ug/delete-replications.html),
  answered 204, and 404 `ReplicationNotFound` when there is none, as the API reference lists
  (https://docs.aws.amazon.com/efs/latest/ug/API_DeleteReplicationConfiguration.html; both read
  2026-11-30);
- `DescribeReplicationConfigurations` lists them in AWS's shape, with `LastReplicatedTimestamp`.

Lag: "most changes are replicated within a minute, with an overall Recovery Point Objective (RPO)
of 15 minutes for most file systems" (https://aws.amazon.com/blogs/aws/new-replication-for-amazon-
elastic-file-system-efs/, read 2026-11-30): the lab's default is the typical minute, times the
lab's time factor, unless the deploy overrides every lag.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from chaos.lab.filestore import FileShares, Share

TYPICAL_LAG_SECONDS = 60.0   # AWS News Blog above: "most changes ... within a minute"
WORST_RPO_SECONDS = 900.0    # same source: "RPO of 15 minutes for most file systems"
TICK_SECONDS = 0.05
ACCOUNT_ID = "123456789012"
_CONFIG_PATH = re.compile(r"^/2015-02-01/file-systems/(?P<fs>[^/]+)/replication-configuration/?$")
_LIST_PATH = re.compile(r"^/2015-02-01/file-systems/replication-configurations/?$")
Reply = tuple[int, list[tuple[str, str]], bytes]


@dataclass
class ReplicationConfig:
    workload: str | None
    source: str
    destination: str
    source_region: str
    destination_region: str
    lag_seconds: float
    created_at: float
    paused: bool = False
    last_replicated: float | None = None   # when the destination last held all of the source
    backlog: int = 0                       # files changed at the source and not yet shipped


class EfsLab:
    def __init__(self, shares: FileShares, blocked_regions: Callable[[], frozenset[str]],
                 on_event: Callable[..., None]):
        self.shares = shares
        self._blocked = blocked_regions
        self._record = on_event
        self._lock = threading.Lock()
        self._configs: dict[str, ReplicationConfig] = {}   # by source file system id
        self._shipped: dict[tuple[str, str], float] = {}    # (source, path) -> mtime shipped
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._replicate_forever, name="lab-efs-replication",
                                        daemon=True)
        self._thread.start()

    # --- deploy ---------------------------------------------------------------------------------
    def add_file_system(self, fs_id: str, region: str, workload: str | None,
                        read_only: bool = False) -> Share:
        return self.shares.add(fs_id, "efs", region, workload=workload, read_only=read_only)

    def replicate(self, workload: str | None, source: str, destination: str,
                  lag_seconds: float) -> ReplicationConfig:
        src, dst = self.shares.get(source), self.shares.get(destination)
        if src is None or dst is None:
            raise ValueError(f"efs replication: unknown file system {source if src is None else destination}")
        dst.read_only = True
        config = ReplicationConfig(workload, source, destination, src.region, dst.region,
                                   lag_seconds, time.time())
        with self._lock:
            self._configs[source] = config
        return config

    def links(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"workload": c.workload, "kind": "efs", "source_region": c.source_region,
                     "target_region": c.destination_region, "source": c.source,
                     "target": c.destination, "lag_seconds": c.lag_seconds, "paused": c.paused,
                     "backlog": c.backlog}
                    for c in self._configs.values()]

    def workloads(self) -> set[str]:
        with self._lock:
            return {c.workload for c in self._configs.values() if c.workload}

    def configure(self, workload: str | None, paused: bool | None, lag_seconds: float | None) -> None:
        with self._lock:
            for config in self._configs.values():
                if workload is None or config.workload == workload:
                    if paused is not None:
                        config.paused = paused
                    if lag_seconds is not None:
                        config.lag_seconds = lag_seconds

    def clear(self) -> None:
        with self._lock:
            self._configs.clear()
            self._shipped.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    # --- the EFS API calls moto does not answer ------------------------------------------------
    def call(self, method: str, path: str, query: dict[str, list[str]]) -> Reply | None:
        """The replication operations; None: moto answers."""
        found = _CONFIG_PATH.match(path)
        if found and method == "DELETE":
            return self._delete(found.group("fs"))
        if _LIST_PATH.match(path) and method == "GET":
            wanted = (query.get("FileSystemId") or [None])[0]
            with self._lock:
                configs = [c for c in self._configs.values()
                           if wanted in (None, c.source, c.destination)]
            if wanted and not configs:
                return _error(404, "ReplicationNotFound",
                              f"No replication configuration found for {wanted}")
            return _json(200, {"Replications": [self._describe(c) for c in configs]})
        return None

    def _delete(self, fs_id: str) -> Reply:
        with self._lock:
            config = self._configs.get(fs_id) or next(
                (c for c in self._configs.values() if c.destination == fs_id), None)
            if config is None:
                return _error(404, "ReplicationNotFound",
                              f"No replication configuration found for {fs_id}")
            del self._configs[config.source]
        destination = self.shares.get(config.destination)
        if destination is not None:
            destination.read_only = False
        self._record("efs_replication_deleted", source=config.source,
                     destination=config.destination, workload=config.workload)
        return 204, [("Content-Length", "0")], b""

    def _describe(self, c: ReplicationConfig) -> dict[str, Any]:
        def arn(region: str, fs: str) -> str:
            return f"arn:aws:elasticfilesystem:{region}:{ACCOUNT_ID}:file-system/{fs}"
        status = "PAUSED" if c.paused else "ENABLED"
        destination: dict[str, Any] = {"Status": status, "FileSystemId": c.destination,
                                       "Region": c.destination_region}
        if c.last_replicated is not None:
            destination["LastReplicatedTimestamp"] = datetime.fromtimestamp(
                c.last_replicated, tz=timezone.utc).isoformat()
        return {"SourceFileSystemId": c.source, "SourceFileSystemRegion": c.source_region,
                "SourceFileSystemArn": arn(c.source_region, c.source),
                "OriginalSourceFileSystemArn": arn(c.source_region, c.source),
                "CreationTime": datetime.fromtimestamp(c.created_at, tz=timezone.utc).isoformat(),
                "Destinations": [destination]}

    # --- replication ----------------------------------------------------------------------------
    def _replicate_forever(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            with self._lock:
                configs = list(self._configs.values())
            blocked = self._blocked()
            for config in configs:
                if config.paused or config.source_region in blocked \
                        or config.destination_region in blocked:
                    continue
                try:
                    self._ship(config)
                except OSError:  # a file replaced mid-copy: shipped on the next tick
                    continue

    def _ship(self, config: ReplicationConfig) -> None:
        src, dst = self.shares.get(config.source), self.shares.get(config.destination)
        if src is None or dst is None:
            return
        cutoff = time.time() - config.lag_seconds
        pending = False
        waiting = 0
        for path in FileShares.files(src.root):
            changed = (src.root / path).stat().st_mtime
            if self._shipped.get((config.source, path)) == changed:
                continue
            if changed > cutoff:
                pending = True
                waiting += 1
                continue
            FileShares.write_file(dst.root, path, (src.root / path).read_bytes())
            self._shipped[(config.source, path)] = changed
        for path in FileShares.files(dst.root):  # deletions replicate too
            if not (src.root / path).exists() and (config.source, path) in self._shipped:
                (dst.root / path).unlink(missing_ok=True)
                del self._shipped[(config.source, path)]
        config.backlog = waiting
        if not pending:
            config.last_replicated = time.time()


def _json(status: int, payload: dict[str, Any]) -> Reply:
    body = json.dumps(payload).encode()
    return status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body


def _error(status: int, code: str, message: str) -> Reply:
    body = json.dumps({"ErrorCode": code, "Message": message}).encode()
    return status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", code),
                    ("Content-Length", str(len(body)))], body


__all__ = ["EfsLab", "ReplicationConfig", "TYPICAL_LAG_SECONDS", "WORST_RPO_SECONDS"]
