"""DynamoDB global-table and S3 CRR emulation through the real lab: lag, pause, outages, LWW."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.lab._lab_fixtures import DR, PRIMARY, client, deployed_lab, eventually

KEY = {"pk": {"S": "order-1"}, "sk": {"S": "v"}}


@pytest.fixture(scope="module")
def lab_server():
    with deployed_lab(lag=0.1) as (server, lab, summary):
        yield server.endpoint, lab


@pytest.fixture()
def running(lab_server):
    lab_server[1].reset()  # fresh tables, buckets, links and no faults for every test
    return lab_server


def item_in(endpoint: str, region: str) -> dict | None:
    return client(endpoint, "dynamodb", region).get_item(TableName="catalog", Key=KEY).get("Item")


def put(endpoint: str, region: str, value: str) -> None:
    client(endpoint, "dynamodb", region).put_item(TableName="catalog", Item={**KEY, "value": {"S": value}})


def link(lab, kind: str, source_region: str) -> dict:
    return next(l for l in lab.replication() if l["kind"] == kind and l["source_region"] == source_region)


def test_dynamodb_write_reaches_the_replica_after_the_lag(running):
    endpoint, lab = running
    put(endpoint, PRIMARY, "v1")
    assert eventually(lambda: item_in(endpoint, DR))["value"] == {"S": "v1"}


def test_paused_replication_holds_changes_as_backlog_until_resumed(running):
    endpoint, lab = running
    lab.set_replication(workload="catalog", paused=True)
    put(endpoint, PRIMARY, "v1")

    assert link(lab, "dynamodb", PRIMARY)["paused"] is True
    assert link(lab, "dynamodb", PRIMARY)["backlog"] == 1
    assert item_in(endpoint, DR) is None

    lab.set_replication(workload="catalog", paused=False)
    eventually(lambda: item_in(endpoint, DR))
    assert link(lab, "dynamodb", PRIMARY)["backlog"] == 0


def test_region_outage_keeps_in_flight_changes_unshipped(running):
    endpoint, lab = running
    lab.set_replication(workload="catalog", paused=True)
    put(endpoint, PRIMARY, "in-flight")
    lab.add_faults([{"region": PRIMARY}])
    lab.set_replication(workload="catalog", paused=False)

    assert link(lab, "dynamodb", PRIMARY)["backlog"] == 1  # nothing ships out of a failed region
    assert item_in(endpoint, DR) is None
    assert any(e["kind"] == "replication_halted" for e in lab.events())

    lab.clear_faults()  # the region comes back: the backlog drains
    assert eventually(lambda: item_in(endpoint, DR))["value"] == {"S": "in-flight"}


def test_last_writer_wins_across_regions(running):
    endpoint, lab = running
    lab.set_replication(paused=True)
    put(endpoint, PRIMARY, "older")
    put(endpoint, DR, "newer")
    lab.set_replication(paused=False)

    eventually(lambda: all(l["backlog"] == 0 for l in lab.replication()))
    assert item_in(endpoint, PRIMARY)["value"] == {"S": "newer"}
    assert item_in(endpoint, DR)["value"] == {"S": "newer"}


def test_lag_zero_replicates_inside_the_write(running):
    endpoint, lab = running
    lab.set_replication(workload="catalog", lag_seconds=0.0)
    put(endpoint, PRIMARY, "sync")
    assert item_in(endpoint, DR)["value"] == {"S": "sync"}  # no polling: it is already there


def test_deletes_replicate(running):
    endpoint, lab = running
    put(endpoint, PRIMARY, "doomed")
    eventually(lambda: item_in(endpoint, DR))
    client(endpoint, "dynamodb", PRIMARY).delete_item(TableName="catalog", Key=KEY)
    eventually(lambda: item_in(endpoint, DR) is None)


def test_s3_new_versions_and_delete_markers_replicate_with_their_version_ids(running):
    endpoint, lab = running
    source, replica = client(endpoint, "s3", PRIMARY), client(endpoint, "s3", DR)
    version = source.put_object(Bucket="images-primary", Key="cat.png", Body=b"meow",
                                Metadata={"seq": "7"})["VersionId"]

    def replicated():
        try:
            return replica.get_object(Bucket="images-dr", Key="cat.png")
        except ClientError:
            return None

    got = eventually(replicated)
    assert got["Body"].read() == b"meow"
    assert got["VersionId"] == version
    assert got["Metadata"] == {"seq": "7"}

    marker = source.delete_object(Bucket="images-primary", Key="cat.png")["VersionId"]

    def marker_replicated():
        markers = replica.list_object_versions(Bucket="images-dr").get("DeleteMarkers", [])
        return [m["VersionId"] for m in markers]

    assert eventually(marker_replicated) == [marker]


def test_s3_replication_pause_holds_objects(running):
    endpoint, lab = running
    lab.set_replication(workload="images", paused=True)
    client(endpoint, "s3", PRIMARY).put_object(Bucket="images-primary", Key="held", Body=b"x")

    assert link(lab, "s3", PRIMARY)["backlog"] == 1
    assert client(endpoint, "s3", DR).list_objects_v2(Bucket="images-dr").get("KeyCount") == 0
    lab.set_replication(workload="images", paused=False)
    eventually(lambda: client(endpoint, "s3", DR).list_objects_v2(Bucket="images-dr").get("KeyCount") == 1)


def test_unknown_workload_is_refused(running):
    from chaos.errors import ChaosError

    with pytest.raises(ChaosError, match="workload: no replicated workload 'nope'"):
        running[1].set_replication(workload="nope", paused=True)
