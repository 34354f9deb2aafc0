"""Directory trees served over HTTP: the data plane of the lab's EFS file systems and EBS volumes.

AWS serves EFS over NFS from mount targets and EBS as block devices attached to instances; neither
is an AWS API call. In the lab each file system or volume ("share") is a directory under the lab's
work dir, served on the lab's endpoint under `/_lab/files/<share-id>/<path>`:

- `PUT` writes a file (atomically: temp file + rename, so a copy never sees half a file),
- `GET` reads it (404 when absent), `DELETE` removes it,
- `GET /_lab/files/<share-id>/?prefix=P` lists the files under P (JSON list of paths).

A share is unreachable (503) while its region is under a region outage, its zone under an AZ
outage (EBS volumes are zonal), or it is a resource fault's target; a read-only share (the
destination of EFS replication) refuses writes with 403 `ReadOnlyFileSystem`, as NFS answers
EROFS. This is the lab's transport, not AWS's: the harness on AWS has no mount (docs/lab.md).
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, unquote

PREFIX = "/_lab/files/"


@dataclass
class Share:
    share_id: str
    kind: str                 # "efs" or "ebs"
    region: str
    zone: str | None
    root: Path
    read_only: bool = False
    workload: str | None = None


class ShareUnavailable(RuntimeError):
    """The share's region, zone or resource is down."""


class FileShares:
    """Every share of the deployment; `scopes()` gives the active outage scopes."""

    def __init__(self, root: Path, scopes: Callable[[], Any]):
        self.root = root
        self._scopes = scopes
        self._lock = threading.Lock()
        self._shares: dict[str, Share] = {}

    # --- shares ---------------------------------------------------------------------------------
    def add(self, share_id: str, kind: str, region: str, *, zone: str | None = None,
            read_only: bool = False, workload: str | None = None,
            copy_from: Path | None = None) -> Share:
        root = self.root / kind / region / share_id
        shutil.rmtree(root, ignore_errors=True)
        if copy_from is not None:
            shutil.copytree(copy_from, root)
        else:
            root.mkdir(parents=True)
        share = Share(share_id, kind, region, zone, root, read_only, workload)
        with self._lock:
            self._shares[share_id] = share
        return share

    def get(self, share_id: str) -> Share | None:
        with self._lock:
            return self._shares.get(share_id)

    def all(self) -> list[Share]:
        with self._lock:
            return list(self._shares.values())

    def remove(self, share_id: str) -> None:
        with self._lock:
            share = self._shares.pop(share_id, None)
        if share is not None:
            shutil.rmtree(share.root, ignore_errors=True)

    def clear(self) -> None:
        with self._lock:
            shares, self._shares = list(self._shares.values()), {}
        for share in shares:
            shutil.rmtree(share.root, ignore_errors=True)

    def down_reason(self, share: Share) -> str | None:
        scopes = self._scopes()
        if share.region in scopes.regions:
            return f"region {share.region} is under a region outage"
        if share.zone and share.zone in scopes.zones:
            return f"zone {share.zone} is under an AZ outage"
        if share.share_id in scopes.resources:
            return f"{share.share_id} is the target of a resource fault"
        return None

    # --- data ------------------------------------------------------------------------------------
    @staticmethod
    def files(root: Path, prefix: str = "") -> list[str]:
        base = root / prefix if prefix else root
        if not base.exists():
            return []
        start = base if base.is_dir() else base.parent
        return sorted(str(p.relative_to(root)) for p in start.rglob("*")
                      if p.is_file() and not p.name.startswith(".tmp-")
                      and str(p.relative_to(root)).startswith(prefix))

    @staticmethod
    def write_file(root: Path, path: str, data: bytes) -> None:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.parent / f".tmp-{uuid.uuid4().hex}"
        temp.write_bytes(data)
        os.replace(temp, target)

    @staticmethod
    def copy_tree(source: Path, dest: Path) -> int:
        """Copy `source` into a fresh `dest`; returns the bytes copied."""
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".tmp-*"))
        return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())

    # --- HTTP ------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        rest = unquote(environ.get("PATH_INFO", "")[len(PREFIX):])
        share_id, _, path = rest.partition("/")
        share = self.get(share_id)
        if share is None:
            return _reply(start_response, 404, {"error": f"no file system or volume {share_id!r}",
                                                "code": "NotFound"})
        reason = self.down_reason(share)
        if reason is not None:
            return _reply(start_response, 503, {"error": reason, "code": "Unavailable"})
        if ".." in Path(path).parts or path.startswith("/"):
            return _reply(start_response, 400, {"error": f"path {path!r} escapes the share"})
        if method == "GET" and (not path or path.endswith("/")):
            prefix = (parse_qs(environ.get("QUERY_STRING", "")).get("prefix") or [path])[0]
            return _reply(start_response, 200, self.files(share.root, prefix))
        target = share.root / path
        if method == "GET":
            if not target.is_file():
                return _reply(start_response, 404, {"error": f"{path}: no such file", "code": "NotFound"})
            data = target.read_bytes()
            start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                      ("Content-Length", str(len(data)))])
            return [data]
        if method in ("PUT", "DELETE") and share.read_only:
            _drain(environ)
            return _reply(start_response, 403, {"error": f"{share.share_id} is read-only (the "
                                                         "destination of a replication)",
                                                "code": "ReadOnlyFileSystem"})
        if method == "PUT":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            self.write_file(share.root, path, environ["wsgi.input"].read(length) if length else b"")
            return _reply(start_response, 200, {"written": path})
        if method == "DELETE":
            target.unlink(missing_ok=True)
            return _reply(start_response, 200, {"deleted": path})
        return _reply(start_response, 405, {"error": f"{method} not allowed"})


def _drain(environ: dict[str, Any]) -> None:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)


def _reply(start_response: Callable, status: int, payload: Any) -> list[bytes]:
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
              405: "Method Not Allowed", 503: "Service Unavailable"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                          ("Content-Length", str(len(body)))])
    return [body]
