"""Faults: the inject/revert contract, deletions against a real moto server, and the AWS target's
FIS plumbing.

FIS is tested with botocore's Stubber ONLY because no emulator available here implements FIS
experiments (moto has no FIS backend, the lab declares FIS templates "not emulated"): the stub
checks that we call StartExperiment/GetExperiment/StopExperiment with the stack's template ids.
"""
from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

from chaos.errors import ChaosError
from chaos.faults.base import FaultStateError
from chaos.faults.deletion import AccidentalDeletion
from chaos.faults.outages import InstanceFailure, RegionOutage
from chaos.faults.replication import ReplicationPause
from chaos.journal import Journal
from chaos.runbooks.context import RunbookContext
from chaos.runbooks.restore import remove_s3_delete_markers
from chaos.targets.aws import AwsTarget
from chaos.targets.base import (ACCIDENTAL_DELETION, AZ_OUTAGE, INSTANCE_FAILURE, REGION_OUTAGE,
                                REPLICATION_PAUSE, Deployment, FaultSpec, Target)
from chaos.targets.localstack import LocalStackTarget
from chaos.workload.canary import audit_store, make_writer
from chaos.workload.stores import AppRouting, RecordStream, StoreRef


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


def _write(target, workload, store, stream, seqs):
    writer = make_writer(target, workload, fail_fast=False)
    for seq in seqs:
        writer.write(store, stream, seq, 1.0 + seq)
    writer.close()


def test_dynamodb_item_deletion_removes_only_the_canary_stream(moto_target):
    workload = {"kind": "dynamodb", "stores": {"table": {"name": "t-del", "region": "us-east-1",
                                                         "hash_key": "pk", "range_key": "sk"}}}
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
    workload = {"kind": "s3", "stores": {"bucket": {"name": "b-del", "region": "us-east-1"}}}
    store, stream = StoreRef("s3", "us-east-1", "b-del"), RecordStream("canary", "r", "s")
    _write(moto_target, workload, store, stream, range(30))
    fault = AccidentalDeletion(moto_target, "r", workload_name="w", workload=workload, store=store,
                               stream=stream)
    fault.inject()
    assert audit_store(moto_target, workload, store, stream) == set()
    journal = Journal()
    ctx = RunbookContext(target=moto_target, inventory={}, workload_name="w", workload=workload,
                         routing=AppRouting(store), canary=None, journal=journal, scenario="s",
                         run_id="r", fault_time=0.0, budget_seconds=10)
    remove_s3_delete_markers(ctx, stream)
    assert audit_store(moto_target, workload, store, stream) == set(range(30))
    assert [e.kind for e in journal.events()] == ["runbook_started", "failover_done"]
    fault.revert()


# --- the AWS target: opt-in, capabilities, FIS experiments (Stubber: see module docstring) --------

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


def _stubbed_fis(target: AwsTarget) -> Stubber:
    client = boto3.Session(region_name="us-east-1", aws_access_key_id="x",
                           aws_secret_access_key="x").client("fis")
    target._clients[("fis", "us-east-1", False)] = client
    return Stubber(client)


def _experiment(status: str) -> dict:
    return {"experiment": {"id": "EXP1", "state": {"status": status}}}


def test_instance_failure_on_aws_runs_the_workload_fis_template_and_stops_it():
    target = AwsTarget(AWS_INVENTORY)
    stub = _stubbed_fis(target)
    stub.add_response("start_experiment", _experiment("initiating"),
                      {"experimentTemplateId": "EXT-orders-reboot",
                       "tags": {"securecart-chaos": INSTANCE_FAILURE}})
    stub.add_response("get_experiment", _experiment("running"), {"id": "EXP1"})
    stub.add_response("get_experiment", _experiment("running"), {"id": "EXP1"})
    stub.add_response("stop_experiment", _experiment("stopping"), {"id": "EXP1"})
    with stub:
        fault = InstanceFailure(target, "run-aws", "orders-primary", workload="orders")
        detail = fault.inject()
        assert detail["experiment_id"] == "EXP1" and detail["template_id"] == "EXT-orders-reboot"
        fault.revert()
        fault.revert()  # idempotent: no second StopExperiment (the stub would fail on one)
    stub.assert_no_pending_responses()


def test_replication_pause_on_aws_falls_back_to_the_stack_wide_template():
    target = AwsTarget(AWS_INVENTORY)
    stub = _stubbed_fis(target)
    stub.add_response("start_experiment", _experiment("running"),
                      {"experimentTemplateId": "EXT-ddb-pause",
                       "tags": {"securecart-chaos": REPLICATION_PAUSE}})
    stub.add_response("get_experiment", _experiment("running"), {"id": "EXP1"})
    stub.add_response("get_experiment", _experiment("completed"), {"id": "EXP1"})
    with stub:
        fault = ReplicationPause(target, "run-aws", "catalog")
        fault.inject()
        fault.revert()  # already completed: nothing to stop
    stub.assert_no_pending_responses()


def test_aws_never_plays_another_kind_of_store_template():
    # The stack's only pause template is DynamoDB's: it must not pause an RDS workload.
    with pytest.raises(ChaosError, match="no template for replication-pause"):
        AwsTarget(AWS_INVENTORY).template_for("replication-pause", "orders")


def test_aws_cannot_take_a_region_down():
    fault = RegionOutage(AwsTarget(AWS_INVENTORY), "run-aws", "us-east-1")
    with pytest.raises(ChaosError, match="aws target cannot inject region-outage"):
        fault.inject()
    assert not fault.injected, "a fault that changed nothing does not hold its key"
