"""The archive bucket (hands-on lab 3): lifecycle transitions, archived reads refused, RestoreObject delays.

- **Export** (`BackupLab.export_latest_snapshot`): writes the newest RDS snapshot of an instance to the archive
  bucket as a `pg_dump -Fc` file. AWS's "export snapshot to S3" writes Apache Parquet
  (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ExportSnapshot.html); a dump that
  `pg_restore` loads is what the lab can check end to end.
- **Lifecycle**: every bucket's lifecycle rules (as stored by moto from PutBucketLifecycleConfiguration)
  apply on the lab's AWS clock: a current object moves to the storage class of the latest transition
  whose `Days` it has reached, and is expired (a delete marker, the bucket being versioned) at
  `Expiration.Days`.
- **Archived reads**: GetObject of a GLACIER / DEEP_ARCHIVE object not restored answers 403
  `InvalidObjectState` ("The operation is not valid for the object's storage class", with its
  `StorageClass`), as S3 does.
- **RestoreObject**: 202 and a restore that completes after the tier's retrieval time, scaled; a
  second request meanwhile is 409 `RestoreAlreadyInProgress`; HeadObject shows `x-amz-restore`;
  the restored copy expires after `Days` (AWS days, scaled).

Retrieval times used (upper end of "typically finish within"; Amazon S3 User Guide, "Understanding
archive retrieval options",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects-retrieval-options.html,
read 2026-11-30): GLACIER Expedited 1-5 min, Standard 3-5 h, Bulk 5-12 h; DEEP_ARCHIVE Standard
within 12 h, Bulk within 48 h. Expedited is not available for DEEP_ARCHIVE on AWS; the lab does not
know S3's exact refusal and applies the Standard time instead (recorded as an event).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable
from xml.etree import ElementTree

from chaos.lab import motostate
from chaos.lab.backup.clock import DAY_SECONDS, LabClock

ARCHIVED_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
RETRIEVAL_HOURS: dict[tuple[str, str], float] = {
    ("GLACIER", "Expedited"): 5 / 60, ("GLACIER", "Standard"): 5.0, ("GLACIER", "Bulk"): 12.0,
    ("DEEP_ARCHIVE", "Standard"): 12.0, ("DEEP_ARCHIVE", "Bulk"): 48.0,
}
RETRIEVAL_SOURCE = ("https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects-retrieval-options.html "
                    "(read 2026-11-30)")


@dataclass
class RestoreRequest:
    bucket: str
    key: str
    version_id: str
    storage_class: str
    tier: str
    days: int
    requested_wall: float
    ready_aws: float
    expires_aws: float
    done: bool = False


class ArchiveEmulation:
    def __init__(self, clock: LabClock, on_event: Callable[..., None]):
        self.clock = clock
        self._record = on_event
        self._lock = threading.Lock()
        self.restores: dict[tuple[str, str, str], RestoreRequest] = {}
        self.buckets: set[str] = set()    # buckets whose lifecycle the lab applies (all the lab knows)

    def clear(self) -> None:
        with self._lock:
            self.restores.clear()
            self.buckets.clear()

    # --- lifecycle ----------------------------------------------------------------------------------

    def tick(self) -> None:
        now = self.clock.aws_now()
        backend = motostate.s3_backend()
        for name in list(self.buckets):
            bucket = backend.buckets.get(name)
            if bucket is None or not getattr(bucket, "rules", None):
                continue
            for key in list(bucket.keys.values()):  # current versions
                if getattr(key, "is_delete_marker", False) or type(key).__name__ == "FakeDeleteMarker":
                    continue
                self._apply_rules(bucket, key, now)
        with self._lock:
            for request in list(self.restores.values()):
                if not request.done and now >= request.ready_aws:
                    request.done = True
                    self._record("s3_restore_completed", bucket=request.bucket, key=request.key,
                                 tier=request.tier, storage_class=request.storage_class,
                                 lab_seconds=round(time.time() - request.requested_wall, 3))
                elif request.done and now >= request.expires_aws:
                    self.restores.pop((request.bucket, request.key, request.version_id), None)
                    self._record("s3_restored_copy_expired", bucket=request.bucket, key=request.key)

    def _apply_rules(self, bucket: Any, key: Any, now_aws: float) -> None:
        created_wall = key.last_modified.replace(tzinfo=timezone.utc).timestamp()
        age_days = (now_aws - self.clock.aws_at(created_wall)) / DAY_SECONDS
        for rule in bucket.rules:
            if rule.status != "Enabled" or not key.name.startswith(_rule_prefix(rule)):
                continue
            if rule.expiration_days and age_days >= int(rule.expiration_days):
                motostate.s3_backend().delete_object(bucket.name, key.name)
                self._record("s3_lifecycle_expired", bucket=bucket.name, key=key.name)
                return
            reached = [t for t in rule.transitions or [] if t.days is not None and age_days >= int(t.days)]
            if reached:
                target = max(reached, key=lambda t: int(t.days)).storage_class
                if key.storage_class != target:
                    key.set_storage_class(target)
                    self._record("s3_lifecycle_transition", bucket=bucket.name, key=key.name, storage_class=target,
                                 age_days=round(age_days, 2))

    # --- reads and restores (called by the middleware) ----------------------------------------------

    def archived_key(self, bucket: str, key: str, version_id: str | None) -> Any | None:
        """The moto key if it is in an archive class; None: moto answers as usual."""
        if bucket not in self.buckets or not key:
            return None
        found = motostate.s3_backend().get_object(bucket, key, version_id=version_id)
        return found if found is not None and found.storage_class in ARCHIVED_CLASSES else None

    def readable(self, archived: Any) -> bool:
        """Restored and not expired: moto may serve it (the lab sets what moto checks)."""
        request = self.restores.get((archived.bucket_name, archived.name, str(archived.version_id)))
        if request is None or not request.done:
            archived.set_expiry(None)
            return False
        archived.set_expiry(datetime.fromtimestamp(self.clock.wall_at(request.expires_aws), tz=timezone.utc).replace(tzinfo=None))
        archived._status = "RESTORED"
        return True

    def restore_header(self, archived: Any) -> str | None:
        request = self.restores.get((archived.bucket_name, archived.name, str(archived.version_id)))
        if request is None:
            return None
        if not request.done:
            return 'ongoing-request="true"'
        expiry = datetime.fromtimestamp(self.clock.wall_at(request.expires_aws), tz=timezone.utc)
        return f'ongoing-request="false", expiry-date="{expiry.strftime("%a, %d %b %Y %H:%M:%S GMT")}"'

    def request_restore(self, archived: Any, body: bytes) -> tuple[int, str | None]:
        """(HTTP status, error code or None) for a RestoreObject on an archived key."""
        days, tier = _parse_restore_request(body)
        key = (archived.bucket_name, archived.name, str(archived.version_id))
        with self._lock:
            existing = self.restores.get(key)
            if existing is not None and not existing.done:
                return 409, "RestoreAlreadyInProgress"
            storage_class = archived.storage_class
            if (storage_class, tier) not in RETRIEVAL_HOURS:
                self._record("s3_restore_tier_not_available", bucket=archived.bucket_name, key=archived.name,
                             tier=tier, storage_class=storage_class, applied="Standard")
                tier = "Standard"
            now = self.clock.aws_now()
            start = existing.ready_aws if existing is not None else now + RETRIEVAL_HOURS[(storage_class, tier)] * 3600
            self.restores[key] = RestoreRequest(archived.bucket_name, archived.name, str(archived.version_id),
                                                storage_class, tier, days, time.time(), start,
                                                max(start, now) + days * DAY_SECONDS, done=existing is not None)
        self._record("s3_restore_requested", bucket=archived.bucket_name, key=archived.name, tier=tier,
                     storage_class=storage_class, days=days,
                     lab_seconds=round(self.clock.lab_seconds(RETRIEVAL_HOURS[(storage_class, tier)] * 3600), 3))
        return (200 if existing is not None else 202), None


def _rule_prefix(rule: Any) -> str:
    if rule.filter is not None and getattr(rule.filter, "prefix", None) is not None:
        return rule.filter.prefix or ""
    return rule.prefix or ""


def _parse_restore_request(body: bytes) -> tuple[int, str]:
    days, tier = 1, "Standard"
    if body:
        root = ElementTree.fromstring(body)
        for element in root.iter():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "Days" and element.text:
                days = int(element.text)
            elif tag == "Tier" and element.text:
                tier = element.text
    return days, tier

