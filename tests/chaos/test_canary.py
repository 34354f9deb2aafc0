"""The canary and its audits against a real moto server over HTTP on 127.0.0.1.

No Chaos API here (plain moto): these tests cover writing, acknowledging, journaling, switching
stores and auditing; outages are exercised on the lab (test_calibration*.py, test_gameday*.py).
"""
from __future__ import annotations

import urllib.request

import pytest
from moto.server import ThreadedMotoServer

from chaos.journal import WRITE_ACKED, WRITE_FAILED, Journal
from chaos.targets.base import ACCIDENTAL_DELETION
from chaos.targets.localstack import LocalStackTarget
from chaos.stores.base import RecordStream, StoreRef
from chaos.targets.inventory import parse_workload
from chaos.workload.canary import Canary
from chaos.workload.routing import AppRouting

RAW_WORKLOADS = {
    "catalog": {"kind": "dynamodb", "strategy": "active-active", "primary_region": "us-east-1",
                "dr_region": "us-west-2", "failover": None,
                "stores": {"table": {"name": "catalog", "region": "us-east-1", "hash_key": "pk",
                                     "range_key": "sk", "pitr": True},
                           "replicas": [{"region": "us-west-2"}]}},
    "images": {"kind": "s3", "strategy": "warm-standby", "primary_region": "us-east-1",
               "dr_region": "us-west-2", "failover": None,
               "stores": {"bucket": {"name": "images", "region": "us-east-1", "versioning": True},
                          "replicas": [{"name": "images-dr", "region": "us-west-2"}]}},
}
WORKLOADS = {name: parse_workload(name, raw) for name, raw in RAW_WORKLOADS.items()}


def audit_store(target, workload, store, stream):
    return workload.stores.audit(target, store, stream)


@pytest.fixture(scope="module")
def target():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        # moto's backends are process-wide: an in-process lab of an earlier test module may have
        # left tables and buckets of the same names behind. Start from empty, over moto's own API.
        urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset",
                                                      method="POST"), timeout=10).close()
        target = LocalStackTarget(f"http://{host}:{port}", {"workloads": RAW_WORKLOADS})
        target.discover()
        for region in ("us-east-1", "us-west-2"):
            target.client("dynamodb", region).create_table(
                TableName="catalog", BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                           {"AttributeName": "sk", "KeyType": "RANGE"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                      {"AttributeName": "sk", "AttributeType": "S"}])
        for name, region in (("images", "us-east-1"), ("images-dr", "us-west-2")):
            s3 = target.client("s3", region)
            s3.create_bucket(Bucket=name, **({} if region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": region}}))
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        yield target
    finally:
        server.stop()


def _run_canary(target, name, journal, routing, stream, switch_to=None):
    canary = Canary(workload_name=name, workload=WORKLOADS[name], target=target, routing=routing,
                    stream=stream, journal=journal, rate=200).start()
    try:
        _wait_for_acks(canary, 20)
        if switch_to is not None:
            routing.switch(switch_to)
            _wait_for_acks(canary, canary.acked + 20)
    finally:
        canary.stop()
    return canary


def _wait_for_acks(canary, count):
    from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed
    Retrying(stop=stop_after_delay(30), wait=wait_fixed(0.02), reraise=True,
             retry=retry_if_result(lambda acked: acked < count))(lambda: canary.acked)


@pytest.mark.parametrize("name", ["catalog", "images"])
def test_every_acknowledged_write_is_in_the_store_and_nothing_else(target, name):
    journal = Journal()
    stream = RecordStream("canary", "run-ack", name)
    routing = AppRouting(StoreRef(WORKLOADS[name].kind, "us-east-1", name))
    _run_canary(target, name, journal, routing, stream)
    acked = {e.data["seq"] for e in journal.events() if e.kind == WRITE_ACKED}
    assert len(acked) >= 20
    assert audit_store(target, WORKLOADS[name], routing.current, stream) == acked
    seqs = sorted(e.data["seq"] for e in journal.events())
    assert seqs == list(range(len(seqs))), "sequence numbers are consecutive, each used once"


def test_retarget_switches_the_store_the_canary_writes_to(target):
    journal = Journal()
    stream = RecordStream("canary", "run-switch", "catalog")
    primary, replica = StoreRef("dynamodb", "us-east-1", "catalog"), StoreRef("dynamodb", "us-west-2", "catalog")
    routing = AppRouting(primary)
    _run_canary(target, "catalog", journal, routing, stream, switch_to=replica)
    acks = [e for e in journal.events() if e.kind == WRITE_ACKED]
    in_primary = audit_store(target, WORKLOADS["catalog"], primary, stream)
    in_replica = audit_store(target, WORKLOADS["catalog"], replica, stream)
    assert in_primary and in_replica and not (in_primary & in_replica)
    assert in_primary | in_replica == {e.data["seq"] for e in acks}
    assert {e.data["store"] for e in acks} == {str(primary), str(replica)}


def test_a_refused_write_is_journaled_as_failed_not_acknowledged(target):
    journal = Journal()
    stream = RecordStream("canary", "run-fail", "catalog")
    routing = AppRouting(StoreRef("dynamodb", "us-east-1", "no-such-table"))
    canary = Canary(workload_name="catalog", workload=WORKLOADS["catalog"], target=target,
                    routing=routing, stream=stream, journal=journal, rate=200).start()
    try:
        from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed
        Retrying(stop=stop_after_delay(30), wait=wait_fixed(0.02), reraise=True,
                 retry=retry_if_result(lambda n: n < 5))(lambda: canary.consecutive_failures)
    finally:
        canary.stop()
    kinds = {e.kind for e in journal.events()}
    assert kinds == {WRITE_FAILED}
    assert "ResourceNotFoundException" in journal.events()[0].data["error"]


def test_plain_moto_offers_only_deletion_faults(target):
    # No Chaos API and no /_lab API at a plain moto endpoint: only API-level faults are possible.
    assert target.capabilities == frozenset({ACCIDENTAL_DELETION})
