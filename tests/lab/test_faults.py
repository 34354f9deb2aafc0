"""The Chaos API against the real lab server: matching, region outage semantics, error shapes, expiry."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from chaos.errors import ChaosError
from tests.lab._lab_fixtures import DR, PRIMARY, client, deployed_lab, eventually


@pytest.fixture(scope="module")
def running():
    with deployed_lab() as (server, lab, summary):
        yield server.endpoint, lab, summary


@pytest.fixture()
def endpoint(running):
    endpoint, lab, _ = running
    lab.clear_faults()
    yield endpoint
    lab.clear_faults()


@pytest.fixture()
def lab(running, endpoint):
    return running[1]


def put(endpoint: str, region: str, pk: str) -> None:
    client(endpoint, "dynamodb", region).put_item(TableName="catalog", Item={"pk": {"S": pk}, "sk": {"S": "s"}})


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def test_region_outage_fails_every_regional_api_of_that_region_only(endpoint, lab):
    lab.add_faults([{"region": PRIMARY}])

    assert error_code(lambda: put(endpoint, PRIMARY, "a")) == "ServiceUnavailable"
    assert error_code(lambda: client(endpoint, "s3", PRIMARY).list_objects_v2(Bucket="images-primary")) \
        == "ServiceUnavailable"
    assert error_code(lambda: client(endpoint, "rds", PRIMARY).describe_db_instances()) == "ServiceUnavailable"
    # A client signing for the DR region still cannot reach a bucket that lives in the failed region.
    assert error_code(lambda: client(endpoint, "s3", DR).get_object(Bucket="images-primary", Key="k")) \
        == "ServiceUnavailable"
    put(endpoint, DR, "b")  # the DR region answers
    client(endpoint, "s3", DR).list_objects_v2(Bucket="images-dr")
    client(endpoint, "route53", PRIMARY).list_hosted_zones()  # Route 53 is global


def test_region_outage_takes_the_regions_application_endpoint_down(running, endpoint, lab):
    import urllib.error
    import urllib.request

    primary_url = next(h["endpoint"] for h in running[2]["health_checks"] if h["region"] == PRIMARY)
    with urllib.request.urlopen(primary_url + "/health", timeout=5) as reply:
        assert reply.status == 200
    lab.add_faults([{"region": PRIMARY}])
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(primary_url + "/health", timeout=5)
    assert raised.value.code == 503


def test_operation_rule_fails_only_that_operation_with_the_given_error(endpoint, lab):
    lab.add_faults([{"service": "dynamodb", "operation": "PutItem",
                     "error": {"statusCode": 400, "code": "ThrottlingException"}}])

    assert error_code(lambda: put(endpoint, PRIMARY, "a")) == "ThrottlingException"
    assert error_code(lambda: put(endpoint, DR, "a")) == "ThrottlingException"
    client(endpoint, "dynamodb", PRIMARY).get_item(TableName="catalog", Key={"pk": {"S": "a"}, "sk": {"S": "s"}})


@pytest.mark.parametrize("service, call", [
    ("s3", lambda c: c.get_object(Bucket="images-primary", Key="k")),
    ("rds", lambda c: c.describe_db_instances()),
    ("ec2", lambda c: c.describe_instances()),
    ("route53", lambda c: c.list_hosted_zones()),
    ("backup", lambda c: c.list_backup_vaults()),
])
def test_errors_come_in_each_protocols_shape(endpoint, lab, service, call):
    lab.add_faults([{"service": service, "error": {"statusCode": 400, "code": "LabInjected"}}])
    assert error_code(lambda: call(client(endpoint, service, PRIMARY))) == "LabInjected"


def test_resource_rule_fails_only_requests_naming_that_resource(endpoint, lab):
    ddb = client(endpoint, "dynamodb", PRIMARY)
    ddb.create_table(TableName="catalog-other", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    lab.add_faults([{"resource": "catalog"}])

    assert error_code(lambda: put(endpoint, PRIMARY, "a")) == "ServiceUnavailable"
    ddb.put_item(TableName="catalog-other", Item={"pk": {"S": "a"}})


def test_zone_rule_fails_requests_naming_a_resource_in_that_zone(running, endpoint, lab):
    instance_id = running[2]["inventory"]["workloads"]["web"]["stores"]["instances"][0]["id"]
    ec2 = client(endpoint, "ec2", PRIMARY)
    lab.add_faults([{"zone": "us-east-1a"}])

    assert error_code(lambda: ec2.describe_instances(InstanceIds=[instance_id])) == "ServiceUnavailable"
    ec2.describe_vpcs()


def test_probability_zero_never_fires_and_delete_removes_by_keys(endpoint, lab):
    lab.add_faults([{"service": "dynamodb", "probability": 0.0}])
    put(endpoint, PRIMARY, "a")

    rule = {"service": "dynamodb", "operation": "PutItem"}
    lab.add_faults([rule])
    assert error_code(lambda: put(endpoint, PRIMARY, "a")) == "ServiceUnavailable"
    remaining = lab.remove_faults([rule])
    assert [r["operation"] for r in remaining] == [None]
    put(endpoint, PRIMARY, "a")


def test_post_replaces_all_rules_and_every_rule_carries_an_expiry(endpoint, lab):
    import time

    lab.add_faults([{"service": "s3"}, {"service": "ec2"}])
    rules = lab.set_faults([{"service": "dynamodb"}])

    assert [r["service"] for r in rules] == ["dynamodb"]
    assert 590 < rules[0]["expires_at"] - time.time() <= 600  # the lab default TTL


def test_expired_rule_stops_failing_and_disappears(endpoint, lab):
    lab.add_faults([{"region": PRIMARY, "ttl_seconds": 0.3}])
    assert error_code(lambda: put(endpoint, PRIMARY, "a")) == "ServiceUnavailable"

    eventually(lambda: lab.faults() == [])
    put(endpoint, PRIMARY, "a")


def test_latency_effect_is_stored_and_cleared(endpoint, lab):
    assert lab.set_latency(25)["latency"] == 25
    assert lab.effects() == {"latency": 25}
    put(endpoint, PRIMARY, "slow")
    lab.clear_faults()
    assert lab.effects() == {"latency": 0}


def test_malformed_rule_is_refused_with_the_key_named(lab):
    with pytest.raises(ChaosError, match=r"rule\.servise: unknown key"):
        lab.add_faults([{"servise": "dynamodb"}])
    with pytest.raises(ChaosError, match=r"rule\.probability"):
        lab.add_faults([{"service": "s3", "probability": 3}])
