"""The Chaos API against the real lab server: matching, region outage semantics, error shapes, expiry."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chaos.errors import ChaosError
from tests.lab._lab_fixtures import DR, LAB_KEYS, PRIMARY, client, deployed_lab, eventually


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
    with pytest.raises(ChaosError, match=r"rules\[0\]\.servise: unknown key"):
        lab.add_faults([{"servise": "dynamodb"}])
    with pytest.raises(ChaosError, match=r"rules\[0\]\.probability"):
        lab.add_faults([{"service": "s3", "probability": 3}])


def chaos_api(endpoint: str, token: str | None, method: str, path: str, body: Any = None,
              raw: bytes | None = None) -> tuple[int, Any]:
    """One raw HTTP call (no LabClient): status and decoded JSON answer."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    headers = {"Content-Type": "application/json", **({"X-Lab-Token": token} if token else {})}
    request = urllib.request.Request(endpoint + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.mark.parametrize("rule, key", [
    ({"service": "dynamodb", "ttl_seconds": 1e309}, "ttl_seconds"),      # JSON's 1e309 is infinity
    ({"service": "dynamodb", "ttl_seconds": "NaN"}, "ttl_seconds"),
    ({"service": "dynamodb", "ttl_seconds": -5}, "ttl_seconds"),         # was 200 and silently dropped
    ({"service": "dynamodb", "ttl_seconds": 0}, "ttl_seconds"),          # was the 600 s default
    ({"service": "dynamodb", "ttl_seconds": 10 ** 7}, "ttl_seconds"),    # beyond MAX_TTL_SECONDS
    ({"service": "dynamodb", "expires_at": 1e300}, "expires_at"),
    ({"service": "dynamodb", "probability": float("nan")}, "probability"),
    ({"service": "dynamodb", "error": {"statusCode": 99999}}, "statusCode"),
    ({"service": "dynamodb", "error": {"statusCode": -1}}, "statusCode"),
    ({"service": "dynamodb", "error": {"statusCode": 200}}, "statusCode"),
    ({"region": ["us-east-1"]}, "region"),                             # was a 500 TypeError
    ({"region": 5}, "region"),                                         # was accepted
    ({"service": "nosuchservice"}, "service"),
    ({"region": "mars-1"}, "region"),
    ({"zone": "mars-1a"}, "zone"),
    ({"service": "dynamodb", "operation": "put_item; drop"}, "operation"),
])
def test_rules_the_lab_cannot_honour_are_refused_in_localstacks_shape(running, endpoint, rule, key):
    token = running[1].token
    status, answer = chaos_api(endpoint, token, "PATCH", "/_localstack/chaos/faults",
                               raw=json.dumps([rule], allow_nan=True).replace("Infinity", "1e309").encode())
    assert status == 400, answer
    # LocalStack answers a refused fault configuration with 400 {"message": "..."}: one line.
    assert set(answer) == {"message"} and "\n" not in answer["message"], answer
    assert f"rules[0].{key}" in answer["message"] or f"rules[0].error.{key}" in answer["message"], answer
    assert chaos_api(endpoint, token, "GET", "/_localstack/chaos/faults") == (200, [])


def test_latency_effect_must_be_finite_non_negative_and_bounded(running, endpoint):
    token = running[1].token
    for latency in (-100, 1e9, "NaN", True):
        status, answer = chaos_api(endpoint, token, "POST", "/_localstack/chaos/effects", {"latency": latency})
        assert status == 400 and "effects.latency" in answer["message"], (latency, answer)
    assert chaos_api(endpoint, token, "GET", "/_localstack/chaos/effects") == (200, {"latency": 0})
    put(endpoint, PRIMARY, "after-refused-latency")  # a refused latency did not break AWS calls


def test_rule_count_is_capped_per_request_and_in_total(running, endpoint, lab):
    from chaos.lab.faults import MAX_RULES_PER_REQUEST, MAX_RULES_TOTAL
    token = running[1].token
    many = [{"service": "dynamodb", "operation": "GetItem", "resource": f"r{i}"}
            for i in range(MAX_RULES_PER_REQUEST + 1)]
    status, answer = chaos_api(endpoint, token, "PATCH", "/_localstack/chaos/faults", many)
    assert status == 400 and f"at most {MAX_RULES_PER_REQUEST}" in answer["message"]
    batch = many[:MAX_RULES_PER_REQUEST]
    for start in range(0, MAX_RULES_TOTAL, MAX_RULES_PER_REQUEST):
        lab.add_faults([{**rule, "resource": f"b{start}-{i}"} for i, rule in enumerate(batch)])
    status, answer = chaos_api(endpoint, token, "PATCH", "/_localstack/chaos/faults", batch[:1])
    assert status == 400 and f"at most {MAX_RULES_TOTAL} are active" in answer["message"]
    status, answer = chaos_api(endpoint, token, "POST", "/_localstack/chaos/faults",
                               raw=b"[" + b"{}," * 200_000 + b"{}]")  # ~600 KB
    assert status == 400 and "larger than" in answer["message"]


def test_lab_and_chaos_apis_refuse_requests_without_the_token(running, endpoint):
    for method, path, body in (("GET", "/_localstack/chaos/faults", None),
                               ("PATCH", "/_localstack/chaos/faults", [{"region": PRIMARY}]),
                               ("POST", "/_localstack/chaos/effects", {"latency": 10}),
                               ("GET", "/_lab/health", None), ("POST", "/_lab/reset", {}),
                               ("POST", "/_lab/deploy", {"inventory": {}}),
                               ("GET", "/_lab/replication", None),
                               ("POST", "/moto-api/reset", None), ("GET", "/moto-api/data.json", None)):
        for token in (None, "not-the-token"):
            status, answer = chaos_api(endpoint, token, method, path, body)
            assert status == 401, (method, path, status, answer)
    assert chaos_api(endpoint, running[1].token, "GET", "/_localstack/chaos/faults") == (200, [])
    put(endpoint, PRIMARY, "still-deployed")  # nothing above reached the lab


def test_aws_apis_refuse_unsigned_and_foreign_signatures(endpoint):
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    def code(session_kwargs: dict, config: Config | None = None) -> str:
        dynamodb = boto3.Session(region_name=PRIMARY, **session_kwargs).client(
            "dynamodb", endpoint_url=endpoint, config=config or Config(retries={"max_attempts": 1}))
        return error_code(lambda: dynamodb.list_tables())

    assert code({"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}) == "InvalidClientTokenId"
    right_key = LAB_KEYS[endpoint]["aws_access_key_id"]
    assert code({"aws_access_key_id": right_key, "aws_secret_access_key": "guessed"}) == "SignatureDoesNotMatch"
    unsigned = boto3.Session(region_name=PRIMARY).client(
        "s3", endpoint_url=endpoint, config=Config(signature_version=UNSIGNED))
    assert error_code(lambda: unsigned.list_objects_v2(Bucket="images-primary")) in ("403", "Forbidden")
    assert client(endpoint, "dynamodb", PRIMARY).list_tables()["TableNames"]  # the lab's keys work


def test_refused_requests_do_not_poison_a_kept_alive_connection(running, endpoint):
    """A refused request's body is drained, so the next request on the same connection is read
    as a request (not as the leftovers of the refused body)."""
    import http.client

    host, port = endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for _ in range(2):
            connection.request("POST", "/_lab/deploy", body=b'{"inventory": {}}' * 100,
                               headers={"Content-Type": "application/json"})
            reply = connection.getresponse()
            assert reply.status == 401, reply.read()
            reply.read()
        connection.request("GET", "/_localstack/chaos/faults", headers={"X-Lab-Token": running[1].token})
        reply = connection.getresponse()
        assert (reply.status, json.loads(reply.read())) == (200, [])
    finally:
        connection.close()
