"""Faults: the inject/revert contract, deletions against a real moto server, and the AWS target's
FIS plumbing against a real moto server too (moto implements FIS experiment templates and
experiments, and STS for the credentials preflight), so nothing here is stubbed.
"""
from __future__ import annotations

import json
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer

from chaos.errors import ChaosError
from chaos.faults.base import FaultStateError
from chaos.faults.deletion import AccidentalDeletion
from chaos.faults.outages import InstanceFailure, RegionOutage
from chaos.faults.replication import ReplicationPause
from chaos.journal import Journal
from chaos.runbooks.context import RunbookContext
from chaos.targets import aws as aws_target_module
from chaos.targets.aws import AwsTarget
from chaos.targets.base import (ACCIDENTAL_DELETION, AZ_OUTAGE, INSTANCE_FAILURE, REGION_OUTAGE,
                                REPLICATION_PAUSE, Deployment, FaultSpec, Target)
from chaos.targets.localstack import LocalStackTarget
from chaos.stores.base import RecordStream, StoreRef
from chaos.stores.s3 import remove_delete_markers
from chaos.targets.inventory import parse_inventory, parse_workload
from chaos.workload.routing import AppRouting


class RecordingTarget(Target):
    """A target that records apply/remove calls: for the contract tests of the fault base."""

    name = "recording"

    def __init__(self):
        super().__init__(endpoint_url=None)
        self.applied: list[FaultSpec] = []
        self.removed: list[dict] = []

    def _new_session(self, region):
        return boto3.Session(region_name=region, aws_access_key_id="x", aws_secret_access_key="x")

    capabilities = frozenset({REGION_OUTAGE, AZ_OUTAGE, INSTANCE_FAILURE, REPLICATION_PAUSE,
                              ACCIDENTAL_DELETION})

    def apply_fault(self, spec):
        self.applied.append(spec)
        return {"rules": list(spec.rules)}

    def remove_fault(self, handle):
        self.removed.append(handle)

    def prepare(self, inventory):
        return Deployment(inventory)

    def reset(self):
        return Deployment({})

    def close(self):
        pass


def test_inject_records_its_change_and_revert_undoes_exactly_that():
    target = RecordingTarget()
    fault = RegionOutage(target, "run-1", "us-east-1", ttl_seconds=30)
    detail = fault.inject()
    assert detail["run_id"] == "run-1"
    [rule] = detail["rules"]
    assert rule["region"] == "us-east-1" and "expires_at" in rule, "every rule carries an expiry"
    assert fault.revert() is True
    assert target.removed == [{"rules": [rule]}], "revert removes the very rule inject added"
    assert fault.revert() is False and len(target.removed) == 1, "revert is idempotent"


def test_a_fault_refuses_to_run_twice_over_unreverted_state():
    target = RecordingTarget()
    first = InstanceFailure(target, "run-1", "orders-primary")
    first.inject()
    with pytest.raises(FaultStateError):
        first.inject()
    with pytest.raises(FaultStateError, match="held by an unreverted"):
        InstanceFailure(target, "run-2", "orders-primary").inject()
    first.revert()
    second = InstanceFailure(target, "run-2", "orders-primary")
    second.inject()
    second.revert()


def test_a_failed_revert_keeps_the_fault_held_for_a_retry():
    class Flaky(RecordingTarget):
        fail = True

        def remove_fault(self, handle):
            if self.fail:
                raise RuntimeError("endpoint down")
            super().remove_fault(handle)

    target = Flaky()
    fault = RegionOutage(target, "run-1", "eu-west-1")
    fault.inject()
    with pytest.raises(RuntimeError):
        fault.revert()
    assert fault.injected
    target.fail = False
    assert fault.revert() is True and not fault.injected


# --- deletions against a real moto server --------------------------------------------------------

@pytest.fixture(scope="module")
def moto_target():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        target = LocalStackTarget(f"http://{host}:{port}", {"workloads": {}})
        target.discover()
        yield target
    finally:
        server.stop()


def audit_store(target, workload, store, stream):
    return workload.stores.audit(target, store, stream)


def _write(target, workload, store, stream, seqs):
    writer = workload.stores.writer(target, fail_fast=False)
    for seq in seqs:
        writer.write(store, stream, seq, 1.0 + seq)
    writer.close()


def test_dynamodb_item_deletion_removes_only_the_canary_stream(moto_target):
    workload = parse_workload("w", {"kind": "dynamodb", "stores": {"table": {
        "name": "t-del", "region": "us-east-1", "hash_key": "pk", "range_key": "sk"}}})
    moto_target.client("dynamodb", "us-east-1").create_table(
        TableName="t-del", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}])
    store = StoreRef("dynamodb", "us-east-1", "t-del")
    victim, bystander = RecordStream("canary", "r", "s"), RecordStream("canary", "other", "s")
    _write(moto_target, workload, store, victim, range(60))  # > one BatchWriteItem of 25
    _write(moto_target, workload, store, bystander, range(3))
    fault = AccidentalDeletion(moto_target, "r", workload_name="w", workload=workload, store=store,
                               stream=victim)
    assert fault.inject()["deleted"] == 60
    assert audit_store(moto_target, workload, store, victim) == set()
    assert audit_store(moto_target, workload, store, bystander) == {0, 1, 2}


def test_s3_deletion_writes_delete_markers_and_the_runbook_removes_them(moto_target):
    s3 = moto_target.client("s3", "us-east-1")
    s3.create_bucket(Bucket="b-del")
    s3.put_bucket_versioning(Bucket="b-del", VersioningConfiguration={"Status": "Enabled"})
    workload = parse_workload("w", {"kind": "s3", "stores": {"bucket": {"name": "b-del",
                                                                        "region": "us-east-1"}}})
    store, stream = StoreRef("s3", "us-east-1", "b-del"), RecordStream("canary", "r", "s")
    _write(moto_target, workload, store, stream, range(30))
    fault = AccidentalDeletion(moto_target, "r", workload_name="w", workload=workload, store=store,
                               stream=stream)
    fault.inject()
    assert audit_store(moto_target, workload, store, stream) == set()
    journal = Journal()
    ctx = RunbookContext(target=moto_target, inventory=parse_inventory({}), workload_name="w", workload=workload,
                         routing=AppRouting(store), canary=None, journal=journal, scenario="s",
                         run_id="r", fault_time=0.0, budget_seconds=10)
    remove_delete_markers(ctx, stream)
    assert audit_store(moto_target, workload, store, stream) == set(range(30))
    assert [e.kind for e in journal.events()] == ["runbook_started", "failover_done"]
    fault.revert()


# --- the AWS target: opt-in, capabilities, FIS experiments and STS against a real moto server ----

AWS_INVENTORY = {
    "stack": "staging", "chaos_enabled": True, "primary_region": "us-east-1",
    "fis": {"role_arn": "arn:aws:iam::123456789012:role/chaos", "templates": {
        "rds-reboot-failover": "EXT-reboot", "dynamodb-pause-replication": "EXT-ddb-pause"}},
    "workloads": {"orders": {"kind": "rds",
                             "fis_templates": {"rds-reboot-failover": "EXT-orders-reboot"}},
                  "catalog": {"kind": "dynamodb", "fis_templates": {}}},
}


def test_aws_target_refuses_a_stack_that_did_not_opt_in():
    with pytest.raises(ChaosError, match="chaos_enabled: false"):
        AwsTarget({**AWS_INVENTORY, "chaos_enabled": False})


def test_aws_capabilities_follow_the_stack_fis_templates():
    caps = AwsTarget(AWS_INVENTORY).capabilities
    assert caps == {ACCIDENTAL_DELETION, INSTANCE_FAILURE, REPLICATION_PAUSE}


def test_aws_never_plays_another_kind_of_store_template():
    # The stack's only pause template is DynamoDB's: it must not pause an RDS workload.
    with pytest.raises(ChaosError, match="no template for replication-pause"):
        AwsTarget(AWS_INVENTORY).template_for("replication-pause", "orders")


def test_aws_cannot_take_a_region_down():
    fault = RegionOutage(AwsTarget(AWS_INVENTORY), "run-aws", "us-east-1")
    with pytest.raises(ChaosError, match="aws target cannot inject region-outage"):
        fault.inject()
    assert not fault.injected, "a fault that changed nothing does not hold its key"


MOTO_ACCOUNT = "123456789012"       # the account moto's STS answers for any access key
FIS_EXPERIMENT_MODEL = "fis::experiment"  # moto's state-manager name for FIS experiment states


@pytest.fixture(scope="module")
def aws_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_credentials(monkeypatch, tmp_path):
    """Credentials through the ordinary chain (environment variables), isolated from any profile
    or config file on this machine; no instance-metadata lookups (nothing leaves 127.0.0.1)."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # moto moves an experiment on per GetExperiment, not per second: polling fast loses nothing.
    monkeypatch.setattr(aws_target_module, "EXPERIMENT_POLL_SECONDS", 0.05)


def _moto_api(endpoint: str, path: str, body: dict) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


@pytest.fixture
def experiment_pace(aws_endpoint):
    """How moto moves FIS experiments along pending -> initiating -> running -> completed (and
    stopping -> stopped): one state every `n` GetExperiment calls, through moto's state-manager
    API. Restored to moto's default (n = 1) after the test."""
    def every(n: int) -> None:
        _moto_api(aws_endpoint, "state-manager/set-transition",
                  {"model_name": FIS_EXPERIMENT_MODEL,
                   "transition": {"progression": "manual", "times": n}})
    yield every
    _moto_api(aws_endpoint, "state-manager/unset-transition", {"model_name": FIS_EXPERIMENT_MODEL})


def _fis(endpoint: str):
    """The test's own view of FIS, apart from the target's clients."""
    return boto3.Session(region_name="us-east-1", aws_access_key_id="testing",
                         aws_secret_access_key="testing").client("fis", endpoint_url=endpoint)


# The stack's templates as infra/components/gameday.py declares them: action, target, parameters.
_TEMPLATE_SHAPES = {
    "rds-reboot-failover": ("aws:rds:reboot-db-instances", "DBInstances",
                            ("db_instances", "aws:rds:db"), {"forceFailover": "true"}),
    "dynamodb-pause-replication": ("aws:dynamodb:global-table-pause-replication", "Tables",
                                   ("global_tables", "aws:dynamodb:global-table"),
                                   {"duration": "PT5M"}),
}


def _create_template(fis, key: str, name: str) -> str:
    action_id, target_key, (target_name, resource_type), parameters = _TEMPLATE_SHAPES[key]
    stop_alarm = f"arn:aws:cloudwatch:us-east-1:{MOTO_ACCOUNT}:alarm:staging-stop"
    return fis.create_experiment_template(
        description=f"{name} (test)", roleArn=f"arn:aws:iam::{MOTO_ACCOUNT}:role/staging-fis",
        stopConditions=[{"source": "aws:cloudwatch:alarm", "value": stop_alarm}],
        targets={target_name: {"resourceType": resource_type, "selectionMode": "ALL",
                               "resourceTags": {"chaos-opt-in": "true"}}},
        actions={key.replace("-", "_"): {"actionId": action_id, "parameters": parameters,
                                         "targets": {target_key: target_name}}},
        experimentOptions={"accountTargeting": "single-account",
                           "emptyTargetResolutionMode": "fail"},
        tags={"Name": name, "experiment": key})["experimentTemplate"]["id"]


@pytest.fixture
def staging(aws_endpoint, aws_credentials):
    """A staging-like inventory whose FIS template ids are templates just created in moto: the
    stack-wide reboot and DynamoDB pause, and the orders workload's own reboot."""
    fis = _fis(aws_endpoint)
    ids = {name: _create_template(fis, key, name) for name, key in (
        ("staging-rds-reboot-failover", "rds-reboot-failover"),
        ("staging-dynamodb-pause-replication", "dynamodb-pause-replication"),
        ("orders-rds-reboot-failover", "rds-reboot-failover"))}
    inventory = {
        "stack": "staging", "chaos_enabled": True, "primary_region": "us-east-1",
        "fis": {"role_arn": f"arn:aws:iam::{MOTO_ACCOUNT}:role/staging-fis", "templates": {
            "rds-reboot-failover": ids["staging-rds-reboot-failover"],
            "dynamodb-pause-replication": ids["staging-dynamodb-pause-replication"]}},
        "workloads": {"orders": {"kind": "rds", "fis_templates": {
                          "rds-reboot-failover": ids["orders-rds-reboot-failover"]}},
                      "catalog": {"kind": "dynamodb", "fis_templates": {}}},
    }
    return inventory, ids, fis


def _experiments_of(fis, template_id: str) -> list[dict]:
    # ListExperiments reads states without moving them on (GetExperiment does, in moto).
    return fis.list_experiments(experimentTemplateId=template_id)["experiments"]


def test_instance_failure_on_aws_runs_the_workload_fis_template_and_stops_it(
        aws_endpoint, staging, experiment_pace):
    inventory, ids, fis = staging
    experiment_pace(2)  # still running when reverted, like a reboot that takes a while
    target = AwsTarget(inventory, endpoint_url=aws_endpoint)
    target.prepare(inventory)  # the credentials preflight: moto's account is the stack's
    fault = InstanceFailure(target, "run-aws", "orders-primary", workload="orders")
    detail = fault.inject()
    own = ids["orders-rds-reboot-failover"]
    assert detail["template_id"] == own, "the workload's own template comes first"
    [experiment] = _experiments_of(fis, own)
    assert experiment["id"] == detail["experiment_id"]
    assert experiment["state"]["status"] == "running", "inject returns once FIS runs it"
    assert experiment["tags"] == {"securecart-chaos": INSTANCE_FAILURE}
    assert _experiments_of(fis, ids["staging-rds-reboot-failover"]) == []

    assert fault.revert() is True
    [experiment] = _experiments_of(fis, own)
    assert experiment["state"]["status"] == "stopping", "revert called StopExperiment"
    assert fault.revert() is False, "revert is idempotent"
    after = fis.get_experiment(id=detail["experiment_id"])["experiment"]
    assert after["state"]["status"] == "stopped"


def test_replication_pause_on_aws_falls_back_to_the_stack_wide_template(
        aws_endpoint, staging, experiment_pace):
    inventory, ids, fis = staging
    experiment_pace(1)  # running after two looks, completed at the third (revert's)
    target = AwsTarget(inventory, endpoint_url=aws_endpoint)
    fault = ReplicationPause(target, "run-aws", "catalog")
    detail = fault.inject()
    assert detail["template_id"] == ids["staging-dynamodb-pause-replication"]
    fault.revert()  # the experiment finished on its own: revert tolerates it
    [experiment] = _experiments_of(fis, ids["staging-dynamodb-pause-replication"])
    assert experiment["state"]["status"] == "completed", "a finished experiment is not stopped"


def test_an_aws_experiment_that_never_starts_is_stopped_and_the_fault_fails(
        aws_endpoint, staging, experiment_pace, monkeypatch):
    inventory, ids, fis = staging
    experiment_pace(10**6)  # stuck in "pending", as when FIS cannot assume its role
    monkeypatch.setattr(aws_target_module, "EXPERIMENT_START_BOUND_SECONDS", 0.3)
    fault = InstanceFailure(AwsTarget(inventory, endpoint_url=aws_endpoint), "run-aws",
                            "orders-primary", workload="orders")
    with pytest.raises(RuntimeError, match="is pending, not running"):
        fault.inject()
    [experiment] = _experiments_of(fis, ids["orders-rds-reboot-failover"])
    assert experiment["state"]["status"] == "stopping", "no experiment is left to start later"
    fault.revert()


def test_aws_preflight_refuses_credentials_of_another_account(aws_endpoint, staging):
    inventory, _, _ = staging
    theirs = json.loads(json.dumps(inventory).replace(MOTO_ACCOUNT, "210987654321"))
    target = AwsTarget(theirs, endpoint_url=aws_endpoint)
    with pytest.raises(ChaosError) as refused:
        target.prepare(theirs)
    message = str(refused.value)
    assert message.startswith("aws credentials: account 123456789012 is not the stack's "
                              "(210987654321)") and "\n" not in message


@pytest.mark.parametrize("credentials", ["none", "unknown profile"])
def test_aws_preflight_without_usable_credentials_says_how_to_fix(
        aws_endpoint, staging, monkeypatch, credentials):
    inventory, _, _ = staging
    profile = None
    if credentials == "none":
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    else:
        profile = "no-such-profile"
    target = AwsTarget(inventory, profile=profile, endpoint_url=aws_endpoint)
    with pytest.raises(ChaosError) as refused:
        target.prepare(inventory)
    message = str(refused.value)
    assert message.startswith("aws credentials: ") and "set AWS_PROFILE" in message
    assert ("NoCredentialsError" if credentials == "none" else "ProfileNotFound") in message
    assert "\n" not in message
