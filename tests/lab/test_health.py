"""Route 53 health checks evaluated by the lab, and DNS answers that follow them."""
from __future__ import annotations

import pytest

from tests.lab._lab_fixtures import DR, PRIMARY, client, deployed_lab, eventually

RECORD = "www.securecart.example.com"


@pytest.fixture(scope="module")
def lab_server():
    with deployed_lab() as (server, lab, summary):
        yield server.endpoint, lab


@pytest.fixture()
def deployed(lab_server):
    endpoint, lab = lab_server
    summary = lab.reset()
    yield endpoint, lab, summary["inventory"]
    lab.clear_faults()


def answer(endpoint: str, inventory: dict) -> list[str]:
    reply = client(endpoint, "route53").test_dns_answer(
        HostedZoneId=inventory["hosted_zone"]["id"], RecordName=RECORD, RecordType="CNAME")
    return reply["RecordData"]


def check_id(inventory: dict, region: str) -> str:
    checks = inventory["application"]["health_checks"]
    return next(c["id"] for c in checks if c["region"] == region)


def status(endpoint: str, health_check_id: str) -> str:
    observations = client(endpoint, "route53").get_health_check_status(
        HealthCheckId=health_check_id)["HealthCheckObservations"]
    return observations[0]["StatusReport"]["Status"]


def test_deployed_ids_are_the_labs_own(deployed):
    endpoint, lab, inventory = deployed
    r53 = client(endpoint, "route53")
    assert r53.get_hosted_zone(Id=inventory["hosted_zone"]["id"])["HostedZone"]["Name"].startswith("securecart")
    lab_ids = {c["Id"] for c in r53.list_health_checks()["HealthChecks"]}
    assert {check_id(inventory, PRIMARY), check_id(inventory, DR)} == lab_ids
    records = inventory["application"]["records"]
    assert {r["health_check_id"] for r in records} == lab_ids


def test_dns_fails_over_on_region_outage_and_back_when_it_ends(deployed):
    endpoint, lab, inventory = deployed
    eventually(lambda: status(endpoint, check_id(inventory, PRIMARY)).startswith("Success: HTTP"))
    assert answer(endpoint, inventory) == ["shop.us-east-1.example.com"]

    lab.add_faults([{"region": PRIMARY}])
    eventually(lambda: answer(endpoint, inventory) == ["shop.us-west-2.example.com"])
    assert status(endpoint, check_id(inventory, PRIMARY)).startswith("Failure")
    assert status(endpoint, check_id(inventory, DR)).startswith("Success")
    events = lab.events()
    assert any(e["kind"] == "health_check_unhealthy" and e["detail"]["region"] == PRIMARY for e in events)

    lab.clear_faults()
    eventually(lambda: answer(endpoint, inventory) == ["shop.us-east-1.example.com"])
    assert any(e["kind"] == "health_check_healthy" for e in lab.events())


def test_unhealthy_only_after_the_failure_threshold(deployed):
    endpoint, lab, inventory = deployed
    lab.add_faults([{"region": PRIMARY}])
    eventually(lambda: any(e["kind"] == "health_check_unhealthy" for e in lab.events()))
    outage = next(e for e in lab.events() if e["kind"] == "region_outage_started")
    unhealthy = next(e for e in lab.events() if e["kind"] == "health_check_unhealthy")
    # 3 failed polls 0.2 s apart (10 s x time factor 0.02) cannot happen faster than 2 periods.
    assert unhealthy["t"] - outage["t"] >= 2 * 10 * 0.02


def test_a_runbook_can_force_failover_by_inverting_the_check(deployed):
    endpoint, lab, inventory = deployed
    client(endpoint, "route53").update_health_check(HealthCheckId=check_id(inventory, PRIMARY), Inverted=True)
    assert answer(endpoint, inventory) == ["shop.us-west-2.example.com"]


def test_unknown_record_answers_nxdomain(deployed):
    endpoint, lab, inventory = deployed
    reply = client(endpoint, "route53").test_dns_answer(
        HostedZoneId=inventory["hosted_zone"]["id"], RecordName="nope.securecart.example.com", RecordType="A")
    assert reply["ResponseCode"] == "NXDOMAIN"
    assert reply["RecordData"] == []
