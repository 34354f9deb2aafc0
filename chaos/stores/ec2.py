"""EC2/EBS: instances in the primary region whose volumes hold the data, a DR Auto Scaling group
(at zero for pilot-light) and a DLM policy that snapshots the volumes and copies each snapshot to
the DR region.

Canary records are files on the first primary instance's volume (chaos/stores/files.py); the
volume is found with `DescribeVolumes` (attachment.instance-id), as on AWS.
- deletion: `items` deletes the stream's files;
- regional recovery (pilot-light): newest DLM copy in the DR region (`DescribeSnapshots`, tag
  `workload`), scale the DR group from zero (`UpdateAutoScalingGroup`), wait for an InService
  instance, `CreateVolume` from the copy in its zone, `AttachVolume`, then the application
  writes to the restored volume;
- no point-in-time restore: EBS has none; snapshots are the recovery points.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaos.stores import files
from chaos.stores.base import InventoryError, StoreRef, Stores, field, optional

if TYPE_CHECKING:
    from chaos.runbooks.context import RunbookContext
    from chaos.targets.base import Target
    from chaos.targets.inventory import Workload


@dataclass(frozen=True)
class Instance:
    id: str
    region: str
    availability_zone: str | None


@dataclass(frozen=True)
class Ec2Stores(files.FileBacked, Stores):
    kind = "ec2"
    deletion_modes = ("items",)
    backup_resource_type = "EBS"
    label = "EBS"
    arn_format = "arn:aws:ec2:{region}:{account}:volume/{name}"

    instances: tuple[Instance, ...]
    dr_capacity: int
    dr_group: str | None
    dr_group_region: str | None
    dr_group_max: int
    snapshot_interval_hours: int | None   # the shortest DLM schedule
    snapshot_dr_region: str | None

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> "Ec2Stores":
        items = field(raw, "instances", where, list)
        if not items:
            raise InventoryError(f"{where}.instances", "empty: declare at least one instance")
        instances = tuple(Instance(field(i, "id", f"{where}.instances[{n}]"),
                                   field(i, "region", f"{where}.instances[{n}]"),
                                   i.get("availability_zone")) for n, i in enumerate(items))
        group = raw.get("dr_group") or {}
        schedules = [s for s in raw.get("snapshot_schedules") or [] if isinstance(s, dict)]
        shortest = min(schedules, key=lambda s: int(s.get("interval_hours") or 24), default=None)
        return cls(instances=instances, dr_capacity=int(optional(raw, "dr_capacity", 0)),
                   dr_group=group.get("name"), dr_group_region=group.get("region"),
                   dr_group_max=int(group.get("max_size") or len(instances)),
                   snapshot_interval_hours=None if shortest is None else int(shortest["interval_hours"]),
                   snapshot_dr_region=None if shortest is None else shortest.get("dr_region"))

    def primary(self) -> StoreRef:
        """The first primary instance; its name is the instance id until the volume is resolved
        (`volume_of`)."""
        first = self.instances[0]
        return StoreRef(self.kind, first.region, first.id)

    # -- canary ------------------------------------------------------------------------------
    def prepare(self, target: "Target") -> StoreRef:
        """The data volume of the first primary instance, found as on AWS."""
        first = self.instances[0]
        volumes = target.client("ec2", first.region).describe_volumes(
            Filters=[{"Name": "attachment.instance-id", "Values": [first.id]}])["Volumes"]
        if not volumes:
            raise RuntimeError(f"{first.id} has no attached volume to write to")
        return StoreRef(self.kind, first.region, volumes[0]["VolumeId"])

    def why_no_instance_failover(self) -> str | None:
        return ("an instance failure leaves its EBS volume intact (volumes persist independently "
                "of instances) and EC2 recovers the instance: no data-store failover to measure")

    def why_no_multi_az_failover(self) -> str | None:
        """An EBS volume lives in one AZ: an AZ outage is survived by an instance in another AZ
        taking over with a volume restored from the newest snapshot of the lost one."""
        zones = {i.availability_zone for i in self.instances if i.availability_zone}
        if len(zones) < 2:
            return "every instance runs in one AZ: no instance in another AZ to take over"
        if self.snapshot_interval_hours is None:
            return "no DLM schedule snapshots the volumes: nothing to restore in another AZ"
        return None

    def primary_zone(self) -> str | None:
        return self.instances[0].availability_zone

    def prepare_zone_failover(self, target: "Target", inventory: Any, workload: "Workload",
                              store: StoreRef, wait: Any) -> dict[str, Any]:
        return self.copy_to_dr_now(target, inventory, workload, store, wait)

    def fail_over_within_region(self, ctx: "RunbookContext", *, forced: bool) -> None:
        """The instance's AZ is down: the newest snapshot of its volume (this region) becomes a
        volume in a surviving AZ, attached to the instance there; the application follows."""
        lost = ctx.routing.history[0]
        region = lost.region
        ctx.started("ec2-volume-from-snapshot-in-another-az")
        ec2 = ctx.target.client("ec2", region)
        snapshots = ec2.describe_snapshots(OwnerIds=["self"], Filters=[
            {"Name": "tag:dlm:source-volume", "Values": [lost.name]},
            {"Name": "status", "Values": ["completed"]}])["Snapshots"]
        local = [s for s in snapshots if "dlm:source-snapshot" not in
                 {t["Key"] for t in s.get("Tags") or []}]   # not the DR copies
        if not local:
            raise RuntimeError(f"no completed snapshot of {lost.name} in {region}")
        newest = max(local, key=lambda s: s["StartTime"])
        survivor = next(i for i in self.instances if i.availability_zone != self.primary_zone())
        volume = ec2.create_volume(SnapshotId=newest["SnapshotId"],
                                   AvailabilityZone=survivor.availability_zone)["VolumeId"]
        ctx.wait_until(f"volume {volume} available", lambda: ec2.describe_volumes(
            VolumeIds=[volume])["Volumes"][0]["State"] == "available")
        ec2.attach_volume(VolumeId=volume, InstanceId=survivor.id, Device="/dev/sdg")
        restored = StoreRef(self.kind, region, volume)
        ctx.wait_until(f"{volume} writable", lambda: files.writable(ctx.target, restored))
        ctx.routing.switch(restored)
        ctx.done(f"restored {newest['SnapshotId']} as {volume} in {survivor.availability_zone}, "
                 f"attached to {survivor.id}; application switched", at=ctx.last_observed_at)

    # -- regional recovery from the DR copies ------------------------------------------------
    def why_no_regional_recovery(self, workload: "Workload") -> str | None:
        if not self.dr_group or self.dr_group_region != workload.dr_region:
            return f"no DR Auto Scaling group in {workload.dr_region} to scale up"
        if self.snapshot_dr_region != workload.dr_region:
            return f"no DLM schedule copies snapshots to {workload.dr_region}"
        return None

    def copy_to_dr_now(self, target: "Target", inventory: Any, workload: "Workload",
                       store: StoreRef, wait: Any) -> dict[str, Any]:
        """Fire the DLM policy now (the lab's DLM emulation): a snapshot of every volume and its
        copy to the DR region, as the schedule would."""
        run_dlm = getattr(target, "run_dlm", None)
        if run_dlm is None:
            raise RuntimeError(f"the {target.name} target cannot fire DLM on demand; wait for the "
                               "policy's schedule")
        made = run_dlm(workload.name)
        if not made:
            raise RuntimeError(f"DLM made no DR copy of {workload.name}")
        return {"copies": made}

    def recover_in(self, ctx: "RunbookContext", region: str) -> StoreRef:
        """Pilot-light: newest DR copy, scale DR compute from zero, volume from the copy, attach."""
        ec2 = ctx.target.client("ec2", region)
        # The copies of the volume the application wrote to. Copies carry the source's tags
        # (copy_tags); a copy's own VolumeId is arbitrary (CopySnapshot API reference), so the
        # source volume is a tag (the lab's DLM sets it; on AWS tag each volume with a stable name).
        source_volume = ctx.routing.history[0].name
        copies = ec2.describe_snapshots(OwnerIds=["self"], Filters=[
            {"Name": "tag:workload", "Values": [ctx.workload_name]},
            {"Name": "tag:dlm:source-volume", "Values": [source_volume]},
            {"Name": "status", "Values": ["completed"]}])["Snapshots"]
        if not copies:
            raise RuntimeError(f"no completed snapshot copy of {source_volume} in {region}")
        newest = max(copies, key=lambda s: s["StartTime"])
        tags = {t["Key"]: t["Value"] for t in newest.get("Tags") or []}
        ctx.note(f"newest DR copy {newest['SnapshotId']} (source "
                 f"{tags.get('dlm:source-snapshot', '?')}, taken at {tags.get('dlm:source-time', '?')})")
        wanted = max(1, len(self.instances))
        autoscaling = ctx.target.client("autoscaling", region)
        autoscaling.update_auto_scaling_group(AutoScalingGroupName=self.dr_group,
                                              MinSize=wanted, DesiredCapacity=wanted,
                                              MaxSize=max(wanted, self.dr_group_max))

        def in_service() -> dict[str, Any] | None:
            group = autoscaling.describe_auto_scaling_groups(
                AutoScalingGroupNames=[self.dr_group])["AutoScalingGroups"][0]
            return next((i for i in group["Instances"] if i["LifecycleState"] == "InService"), None)

        instance = ctx.wait_until(f"an InService instance in {self.dr_group}", in_service)
        ctx.done(f"scaled {self.dr_group} from {self.dr_capacity} to {wanted}: "
                 f"{instance['InstanceId']} InService", at=ctx.last_observed_at)
        volume = ec2.create_volume(SnapshotId=newest["SnapshotId"],
                                   AvailabilityZone=instance["AvailabilityZone"])["VolumeId"]
        ctx.wait_until(f"volume {volume} available", lambda: ec2.describe_volumes(
            VolumeIds=[volume])["Volumes"][0]["State"] == "available")
        ec2.attach_volume(VolumeId=volume, InstanceId=instance["InstanceId"], Device="/dev/sdf")
        restored = StoreRef(self.kind, region, volume)
        ctx.wait_until(f"{volume} writable", lambda: files.writable(ctx.target, restored))
        ctx.done(f"restored {newest['SnapshotId']} as {volume}, attached to "
                 f"{instance['InstanceId']}", at=ctx.last_observed_at)
        return restored

    def snapshots_to_attack(self, target: "Target", workload: "Workload") -> list[tuple[str, str, str, Any]]:
        found = []
        for region in sorted({self.instances[0].region, workload.dr_region}):
            client = target.client("ec2", region)
            for snap in client.describe_snapshots(OwnerIds=["self"], Filters=[
                    {"Name": "tag:workload", "Values": [workload.name]}])["Snapshots"]:
                ident = snap["SnapshotId"]
                found.append(("ec2", region, ident,
                              lambda c=client, i=ident: c.delete_snapshot(SnapshotId=i)))
        return found

    # -- AWS Backup --------------------------------------------------------------------------
    def restore_metadata(self, new_name: str, region: str) -> dict[str, str]:
        zone = next((i.availability_zone for i in self.instances if i.region == region), None)
        return {"availabilityZone": zone or f"{region}a", "volumeType": "gp3", "encrypted": "false"}
