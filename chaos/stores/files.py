"""The canary's writer and audit for file-backed stores (EFS file systems, EBS volumes).

Records are files `<role>/<run>/<scenario>/%08d` on the file system or volume. The harness reaches
them through the target's file service (`Target.file_service_url`: the lab serves each file
system and volume under `/_lab/files/<id>/`, chaos/lab/filestore.py). On AWS the same files would
be written by an agent on an instance that mounts the file system or volume; the harness has no
such agent, so on targets without a file service these kinds have no canary (the skip says so).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import quote

import urllib3

from chaos.stores.base import RecordStream, StoreRef

if TYPE_CHECKING:
    from chaos.runbooks.context import RunbookContext
    from chaos.targets.base import Target

CANARY_TIMEOUT = urllib3.Timeout(connect=1.0, read=2.0)
CONTROL_TIMEOUT = urllib3.Timeout(connect=2.0, read=10.0)


class FileServiceError(RuntimeError):
    """The file service refused or failed a call; `code` is its error code (Unavailable,
    ReadOnlyFileSystem, NotFound)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def no_file_service(kind: str, target: "Target") -> str | None:
    if not target.has_file_service:
        return (f"the harness writes {kind} data through the lab's file service; the "
                f"{target.name} target has none (on AWS the canary would need an agent on an "
                "instance that mounts it)")
    return None


class FileClient:
    """HTTP calls to the file service; one instance per thread (its own connection pool)."""

    def __init__(self, target: "Target", *, fail_fast: bool = True) -> None:
        base = target.file_service_url()
        if base is None:
            raise FileServiceError("NoFileService", no_file_service("file", target) or "")
        self._base = base
        self._timeout = CANARY_TIMEOUT if fail_fast else CONTROL_TIMEOUT
        self._pool = urllib3.PoolManager(maxsize=2, retries=False, timeout=self._timeout,
                                         headers=target.file_service_headers())

    def _url(self, share: str, path: str = "") -> str:
        return f"{self._base}{quote(share)}/{quote(path)}"

    def _call(self, method: str, url: str, body: bytes | None = None) -> urllib3.BaseHTTPResponse:
        answer = self._pool.request(method, url, body=body)
        if answer.status >= 400 and answer.status != 404:
            try:
                payload = json.loads(answer.data)
            except ValueError:
                payload = {}
            raise FileServiceError(str(payload.get("code") or answer.status),
                                   str(payload.get("error") or answer.data[:200]))
        return answer

    def put(self, share: str, path: str, data: bytes) -> None:
        if self._call("PUT", self._url(share, path), data).status == 404:
            raise FileServiceError("NotFound", f"no file system or volume {share}")

    def exists(self, share: str, path: str) -> bool:
        return self._call("GET", self._url(share, path)).status == 200

    def delete(self, share: str, path: str) -> None:
        if self._call("DELETE", self._url(share, path)).status == 404:
            raise FileServiceError("NotFound", f"no file system or volume {share}")

    def list(self, share: str, prefix: str) -> list[str]:
        answer = self._call("GET", self._url(share) + f"?prefix={quote(prefix)}")
        if answer.status == 404:
            raise FileServiceError("NotFound", f"no file system or volume {share}")
        return list(json.loads(answer.data))

    def close(self) -> None:
        self._pool.clear()


class FileWriter:
    """The canary's writer: one file per record."""

    def __init__(self, target: "Target", *, fail_fast: bool = True) -> None:
        self._client = FileClient(target, fail_fast=fail_fast)

    def write(self, store: StoreRef, stream: RecordStream, seq: int, written_at: float) -> None:
        body = json.dumps({"seq": seq, "written_at": written_at, "payload": f"order {seq}"})
        self._client.put(store.name, stream.s3_prefix + stream.sort_key(seq), body.encode())

    def read(self, store: StoreRef, stream: RecordStream, seq: int) -> bool:
        return self._client.exists(store.name, stream.s3_prefix + stream.sort_key(seq))

    def close(self) -> None:
        self._client.close()


def audit(target: "Target", store: StoreRef, stream: RecordStream) -> set[int]:
    client = FileClient(target, fail_fast=False)
    try:
        return {int(path.rsplit("/", 1)[1]) for path in client.list(store.name, stream.s3_prefix)}
    finally:
        client.close()


def delete(target: "Target", store: StoreRef, stream: RecordStream) -> int:
    client = FileClient(target, fail_fast=False)
    try:
        paths = client.list(store.name, stream.s3_prefix)
        for path in paths:
            client.delete(store.name, path)
        return len(paths)
    finally:
        client.close()


def writable(target: "Target", store: StoreRef) -> bool:
    """A write to `store` succeeds (a replication destination refuses until failed over)."""
    client = FileClient(target, fail_fast=True)
    try:
        client.put(store.name, ".writable-check", b"")
        return True
    finally:
        client.close()


class FileBacked:
    """What EFS and EBS share as `Stores`: records are files, deletion deletes them, and deleted
    data comes back from the newest AWS Backup recovery point (neither kind has a point in
    time); the accidental-deletion scenario makes that point before the deletion, as the plan's
    schedule would have. `label` names the kind in skip reasons."""

    label = "file"
    kind: str
    deletion_modes = ("items",)
    deletion_restores_from_backup = True

    def why_not_on(self, target: "Target") -> str | None:
        return no_file_service(self.label, target)

    def writer(self, target: "Target", *, fail_fast: bool = True) -> FileWriter:
        return FileWriter(target, fail_fast=fail_fast)

    def audit(self, target: "Target", store: StoreRef, stream: RecordStream) -> set[int]:
        return audit(target, store, stream)

    def delete(self, target: "Target", store: StoreRef, stream: RecordStream, mode: str) -> int | str:
        return delete(target, store, stream)

    def why_no_point_in_time_restore(self) -> str | None:
        return None

    def restore_point_in_time(self, ctx: "RunbookContext", stream: RecordStream) -> None:
        from chaos.runbooks import backup  # runbooks import the stores; this is the way back
        source = ctx.routing.current
        ctx.started(f"{self.kind}-restore-from-backup")
        ctx.routing.switch(backup.restore_newest(ctx, source.region))
        ctx.done(f"application switched to the restored {ctx.routing.current}")
