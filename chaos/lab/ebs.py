"""EBS in the lab: volumes as directory trees, snapshots holding their data, and the DLM policy.

moto holds the metadata (instances, volumes, snapshots, launch templates, Auto Scaling groups);
the lab keeps the bytes and runs what moto lacks:

- each deployed instance's volume is a share (chaos/lab/filestore.py) in its region and zone,
  so an AZ outage takes it down with the zone;
- `CreateSnapshot` copies the volume's files into the snapshot, `CopySnapshot` copies a snapshot's
  files to the destination region, `CreateVolume` from a snapshot starts the new volume with them,
  `DeleteSnapshot` drops them: moto answers, the lab moves the data after it;
- DLM (moto has no Data Lifecycle Manager): each inventory schedule snapshots the workload's
  volumes every `interval_hours` on the lab's clock (x time_factor), copies each snapshot to the
  DR region with the policy's tags (`copy_tags`, as the stack's policy sets), keeps
  `retain_count` snapshots in the primary region and DR copies for `dr_retain_days`. Nothing is
  taken in a region under outage. `run_now` fires a policy at once (the lab control API), so a
  game day has a DR copy without waiting hours.

Tags the copies carry: `workload`, `dlm:source-volume`, `dlm:source-snapshot` and
`dlm:source-time` (epoch seconds the source snapshot was taken), which a pilot-light runbook
reads to restore the newest copy and to report its age.
"""
from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from chaos.lab.filestore import FileShares

TICK_SECONDS = 0.2


@dataclass
class DlmSchedule:
    workload: str
    region: str
    dr_region: str
    interval_hours: int
    retain_count: int
    dr_retain_days: int
    volumes: list[str]
    next_fire: float
    taken: list[tuple[str, str, float]] = field(default_factory=list)  # (snapshot, DR copy, when), oldest first


class EbsLab:
    def __init__(self, shares: FileShares, root: Path, client: Callable[[str, str], Any],
                 blocked_regions: Callable[[], frozenset[str]], on_event: Callable[..., None]):
        self.shares = shares
        self.root = root
        self._client = client
        self._blocked = blocked_regions
        self._record = on_event
        self._lock = threading.Lock()
        self._schedules: list[DlmSchedule] = []
        self._snapshot_regions: dict[str, str] = {}
        self.time_factor = 1.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick_forever, name="lab-dlm", daemon=True)
        self._thread.start()

    # --- deploy ---------------------------------------------------------------------------------
    def add_instance_volumes(self, workload: str, instance_id: str, region: str) -> list[str]:
        """Shares for the volumes moto attached to `instance_id`; returns their ids."""
        volumes = self._client("ec2", region).describe_volumes(
            Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])["Volumes"]
        for volume in volumes:
            self.shares.add(volume["VolumeId"], "ebs", region, zone=volume.get("AvailabilityZone"),
                            workload=workload)
        return [v["VolumeId"] for v in volumes]

    def add_schedule(self, workload: str, region: str, spec: dict[str, Any], volumes: list[str]) -> None:
        interval = int(spec["interval_hours"])
        schedule = DlmSchedule(workload, region, str(spec["dr_region"]), interval,
                               int(spec.get("retain_count") or 1), int(spec.get("dr_retain_days") or 1),
                               list(volumes), time.time() + interval * 3600.0 * self.time_factor)
        with self._lock:
            self._schedules.append(schedule)

    def clear(self) -> None:
        with self._lock:
            self._schedules.clear()
            self._snapshot_regions.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    # --- DLM ------------------------------------------------------------------------------------
    def run_now(self, workload: str) -> list[dict[str, Any]]:
        """Fire every schedule of `workload` now; returns the DR copies made."""
        with self._lock:
            schedules = [s for s in self._schedules if s.workload == workload]
        if not schedules:
            raise ValueError(f"workload: {workload!r} has no DLM schedule in this deployment")
        made = []
        for schedule in schedules:
            made += self._fire(schedule)
        return made

    def _tick_forever(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            with self._lock:
                due = [s for s in self._schedules if s.next_fire <= time.time()]
            for schedule in due:
                schedule.next_fire = time.time() + schedule.interval_hours * 3600.0 * self.time_factor
                try:
                    self._fire(schedule)
                except Exception as error:  # noqa: BLE001 - the schedule fires again next interval
                    self._record("dlm_snapshot_failed", workload=schedule.workload, error=str(error))

    def _fire(self, schedule: DlmSchedule) -> list[dict[str, Any]]:
        blocked = self._blocked()
        if schedule.region in blocked:
            self._record("dlm_snapshot_skipped", workload=schedule.workload,
                         reason=f"region {schedule.region} is under an outage")
            return []
        made = []
        for volume in schedule.volumes:
            taken = time.time()
            tags = [{"Key": "workload", "Value": schedule.workload},
                    {"Key": "dlm:source-volume", "Value": volume},
                    {"Key": "dlm:source-time", "Value": f"{taken:.3f}"}]
            snapshot = self._client("ec2", schedule.region).create_snapshot(
                VolumeId=volume, Description=f"DLM snapshot of {volume}",
                TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}])["SnapshotId"]
            self.snapshot_volume(volume, snapshot, schedule.region)
            if schedule.dr_region in blocked:
                continue
            copy = self._client("ec2", schedule.dr_region).copy_snapshot(
                SourceRegion=schedule.region, SourceSnapshotId=snapshot,
                Description=f"DLM cross-region copy of {snapshot}",
                TagSpecifications=[{"ResourceType": "snapshot", "Tags": [
                    *tags, {"Key": "dlm:source-snapshot", "Value": snapshot}]}])["SnapshotId"]
            self.copy_snapshot(snapshot, copy, schedule.dr_region)
            schedule.taken.append((snapshot, copy, taken))
            made.append({"volume": volume, "snapshot": snapshot, "copy": copy,
                         "dr_region": schedule.dr_region, "taken_at": taken})
            self._record("dlm_snapshot_copied", workload=schedule.workload, volume=volume,
                         snapshot=snapshot, copy=copy, dr_region=schedule.dr_region)
        self._retain(schedule)
        return made

    def _retain(self, schedule: DlmSchedule) -> None:
        """Keep the newest `retain_count` snapshots per volume here; DR copies live
        `dr_retain_days` (x time_factor on the lab's clock), each on its own."""
        excess = sum(1 for t in schedule.taken if t[0]) - schedule.retain_count * max(1, len(schedule.volumes))
        for index, (snapshot, copy, taken) in enumerate(list(schedule.taken)):
            if excess <= 0:
                break
            if snapshot:
                self._delete(schedule.region, snapshot)
                schedule.taken[index] = ("", copy, taken)
                excess -= 1
        expiry = schedule.dr_retain_days * 86400.0 * self.time_factor
        for entry in [t for t in schedule.taken if time.time() - t[2] > expiry]:
            schedule.taken.remove(entry)
            self._delete(schedule.dr_region, entry[1])
            if entry[0]:
                self._delete(schedule.region, entry[0])

    def _delete(self, region: str, snapshot: str) -> None:
        try:
            self._client("ec2", region).delete_snapshot(SnapshotId=snapshot)
        finally:
            self.forget_snapshot(snapshot)

    # --- data moves behind the EC2 API ---------------------------------------------------------
    def _snapshot_dir(self, snapshot: str) -> Path:
        return self.root / snapshot

    def snapshot_volume(self, volume: str, snapshot: str, region: str) -> None:
        share = self.shares.get(volume)
        if share is None:
            raise ValueError(f"{volume}: the lab holds no data for this volume")
        FileShares.copy_tree(share.root, self._snapshot_dir(snapshot))
        self._snapshot_regions[snapshot] = region

    def copy_snapshot(self, source: str, copy: str, region: str) -> None:
        if not self._snapshot_dir(source).exists():
            raise ValueError(f"{source}: the lab holds no data for this snapshot")
        FileShares.copy_tree(self._snapshot_dir(source), self._snapshot_dir(copy))
        self._snapshot_regions[copy] = region

    def volume_from_snapshot(self, snapshot: str, volume: str, region: str, zone: str | None,
                             workload: str | None = None) -> None:
        source = self._snapshot_dir(snapshot)
        self.shares.add(volume, "ebs", region, zone=zone, workload=workload,
                        copy_from=source if source.exists() else None)

    def forget_snapshot(self, snapshot: str) -> None:
        shutil.rmtree(self._snapshot_dir(snapshot), ignore_errors=True)
        self._snapshot_regions.pop(snapshot, None)

    def after_ec2_call(self, operation: str, region: str, params: dict[str, str | None],
                       answer: dict[str, str | None]) -> None:
        """Move the data of a successful EC2 call moto answered (see the module docstring)."""
        if operation == "CreateSnapshot" and answer.get("SnapshotId") and params.get("VolumeId"):
            self.snapshot_volume(str(params["VolumeId"]), str(answer["SnapshotId"]), region)
        elif operation == "CopySnapshot" and answer.get("SnapshotId") and params.get("SourceSnapshotId"):
            self.copy_snapshot(str(params["SourceSnapshotId"]), str(answer["SnapshotId"]), region)
        elif operation == "CreateVolume" and answer.get("VolumeId"):
            if params.get("SnapshotId"):
                self.volume_from_snapshot(str(params["SnapshotId"]), str(answer["VolumeId"]), region,
                                          params.get("AvailabilityZone"))
            else:
                self.shares.add(str(answer["VolumeId"]), "ebs", region,
                                zone=params.get("AvailabilityZone"))
        elif operation == "DeleteSnapshot" and params.get("SnapshotId"):
            self.forget_snapshot(str(params["SnapshotId"]))
        elif operation == "DeleteVolume" and params.get("VolumeId"):
            self.shares.remove(str(params["VolumeId"]))


EC2_DATA_OPERATIONS = ("CreateSnapshot", "CopySnapshot", "CreateVolume", "DeleteSnapshot", "DeleteVolume")
