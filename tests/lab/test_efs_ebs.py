"""EFS and EBS in the lab, over HTTP on 127.0.0.1: file systems and volumes as directory trees,
EFS replication (lag, read-only destination, DeleteReplicationConfiguration as AWS answers it),
outages, and the EBS data behind DLM snapshots, cross-region copies and volumes from snapshots."""
from __future__ import annotations

import json
import time

import pytest
import urllib3
from botocore.exceptions import ClientError

from chaos.lab.auth import TOKEN_HEADER

from tests.lab._lab_fixtures import DR, PRIMARY, client, deployed_lab, eventually, inventory

LAG = 0.3


def _declared() -> dict:
    declared = inventory()
    web = declared["workloads"]["web"]["stores"]
    web["dr_group"] = {"name": "web-dr", "region": DR, "max_size": 1}
    web["snapshot_schedules"] = [{"name": "daily", "interval_hours": 24, "retain_count": 2,
                                  "dr_region": DR, "dr_retain_days": 7}]
    return declared


HTTP = urllib3.PoolManager(retries=False, timeout=5)


@pytest.fixture(scope="module")
def lab():
    with deployed_lab(lag=LAG, declared=_declared()) as (server, lab_client, summary):
        HTTP.headers[TOKEN_HEADER] = lab_client.token  # the file service needs the lab's token too
        yield server.endpoint, lab_client, summary["inventory"]


def test_the_file_service_refuses_a_request_without_the_token(lab):
    endpoint, _, _ = lab
    answer = urllib3.PoolManager(retries=False, timeout=5).request("GET", f"{endpoint}/_lab/files/x/")
    assert answer.status == 401


def _files(endpoint: str, share: str, path: str = "", method: str = "GET", body: bytes | None = None):
    answer = HTTP.request(method, f"{endpoint}/_lab/files/{share}/{path}", body=body)
    return answer.status, answer.data


def test_efs_replication_ships_after_the_lag_to_a_read_only_destination(lab):
    endpoint, _, mapped = lab
    stores = mapped["workloads"]["applogs"]["stores"]
    source, dest = stores["file_system"]["id"], stores["replicas"][0]["file_system_id"]
    assert _files(endpoint, source, "logs/a.txt", "PUT", b"one")[0] == 200
    assert _files(endpoint, dest, "logs/a.txt")[0] == 404            # not before the lag
    eventually(lambda: _files(endpoint, dest, "logs/a.txt") == (200, b"one"))
    status, body = _files(endpoint, dest, "logs/b.txt", "PUT", b"x")
    assert status == 403 and json.loads(body)["code"] == "ReadOnlyFileSystem"
    described = client(endpoint, "efs", DR).describe_replication_configurations(FileSystemId=source)
    [replication] = described["Replications"]
    assert replication["SourceFileSystemId"] == source
    assert replication["Destinations"][0]["FileSystemId"] == dest


def test_a_region_outage_takes_the_file_system_down_and_halts_replication(lab):
    endpoint, lab_client, mapped = lab
    stores = mapped["workloads"]["applogs"]["stores"]
    source, dest = stores["file_system"]["id"], stores["replicas"][0]["file_system_id"]
    _files(endpoint, source, "logs/before.txt", "PUT", b"b")
    eventually(lambda: _files(endpoint, dest, "logs/before.txt")[0] == 200)
    rule = {"region": PRIMARY, "expires_at": round(time.time() + 60, 3)}
    lab_client.add_faults([rule])
    try:
        status, body = _files(endpoint, source, "logs/during.txt", "PUT", b"d")
        assert status == 503 and json.loads(body)["code"] == "Unavailable"
        assert _files(endpoint, dest, "logs/before.txt")[0] == 200   # the DR copy still reads
    finally:
        lab_client.remove_faults([rule])


def test_deleting_the_replication_configuration_makes_the_destination_writable(lab):
    endpoint, _, mapped = lab
    stores = mapped["workloads"]["applogs"]["stores"]
    source, dest = stores["file_system"]["id"], stores["replicas"][0]["file_system_id"]
    efs = client(endpoint, "efs", DR)
    efs.delete_replication_configuration(SourceFileSystemId=source)
    assert _files(endpoint, dest, "logs/after-failover.txt", "PUT", b"w")[0] == 200
    with pytest.raises(ClientError) as refused:
        efs.delete_replication_configuration(SourceFileSystemId=source)
    assert refused.value.response["Error"]["Code"] == "ReplicationNotFound"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_dlm_copies_volume_data_to_the_dr_region_and_a_volume_restores_it(lab):
    endpoint, lab_client, mapped = lab
    instance = mapped["workloads"]["web"]["stores"]["instances"][0]["id"]
    [volume] = client(endpoint, "ec2").describe_volumes(
        Filters=[{"Name": "attachment.instance-id", "Values": [instance]}])["Volumes"]
    assert _files(endpoint, volume["VolumeId"], "data/1", "PUT", b"first")[0] == 200
    made = lab_client._call("POST", "/_lab/dlm/run", {"workload": "web"})
    [copy] = [m for m in made if m["volume"] == volume["VolumeId"]]
    _files(endpoint, volume["VolumeId"], "data/2", "PUT", b"after the snapshot")
    ec2_dr = client(endpoint, "ec2", DR)
    [described] = ec2_dr.describe_snapshots(SnapshotIds=[copy["copy"]])["Snapshots"]
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags["workload"] == "web" and tags["dlm:source-snapshot"] == copy["snapshot"]
    restored = ec2_dr.create_volume(SnapshotId=copy["copy"], AvailabilityZone=f"{DR}a")["VolumeId"]
    assert _files(endpoint, restored, "data/1") == (200, b"first")
    assert _files(endpoint, restored, "data/2")[0] == 404          # written after the snapshot
    group = client(endpoint, "autoscaling", DR).describe_auto_scaling_groups(
        AutoScalingGroupNames=["web-dr"])["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 0                            # pilot-light: DR compute at zero


def test_dlm_on_a_workload_without_a_schedule_is_a_one_line_400(lab):
    endpoint, _, _ = lab
    answer = HTTP.request("POST", f"{endpoint}/_lab/dlm/run", body=json.dumps({"workload": "catalog"}))
    assert answer.status == 400 and "catalog" in json.loads(answer.data)["error"]
