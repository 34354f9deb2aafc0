"""ARC Region switch in the lab: a plan from the inventory, executed through the `arc-region-switch`
API (botocore's client against the lab endpoint), each block acting on the lab.

The plan here is hand-made in the inventory's shape (docs/inventory.md) around the shared test
inventory: approval, then the repoint function of a private record (the program's own code,
infra/functions/repoint_record.py), then in Parallel the application record's traffic step and a
scale-out of a DR Auto Scaling group the test creates in moto. RDS promotion is exercised end to
end by the prod game day (tests/chaos/test_gameday.py), on the real PostgreSQL replica.
"""
from __future__ import annotations

import pytest

from tests.lab._lab_fixtures import DR, LAB_KEYS, PRIMARY, client, deployed_lab, eventually, inventory

PLAN_ARN = "arn:aws:arc-region-switch::123456789012:plan/securecart-labtest:abc123"
GROUP = "web-dr"
PRIVATE_NAME = "catalog.labtest.securecart.internal"
DR_WRITER = "catalog-dr.writer.internal"


def plan() -> dict:
    record = {"kind": "route53-record", "region": DR, "id": "www.securecart.example.com",
              "hosted_zone_id": "Z-FROM-PULUMI", "set_identifier": "application-dr", "health_check_id": "hc-dr"}
    function = {"kind": "lambda-function", "region": DR, "id": f"arn:aws:lambda:{DR}:1:function:repoint-catalog",
                "name": "repoint-catalog", "source": "infra/functions/repoint_record.py",
                "environment": {"ZONE_ID": "Z-PRIVATE-FROM-PULUMI", "RECORD_NAME": PRIVATE_NAME,
                                "RECORD_TYPE": "CNAME", "RECORD_TTL": "60", "RECORD_VALUE": DR_WRITER}}
    group = {"kind": "autoscaling-group", "region": DR, "id": f"arn:aws:autoscaling:{DR}:1:group/{GROUP}",
             "name": GROUP, "from_capacity": 0, "to_capacity": 2}
    step = {"description": "", "timeout_minutes": 5, "steps": []}
    return {
        "arn": PLAN_ARN, "name": "securecart-labtest", "recovery_approach": "activePassive",
        "primary_region": PRIMARY, "regions": [PRIMARY, DR], "rto_objective_minutes": 1, "no_step": [],
        "workflows": [{"target_action": "activate", "target_region": DR, "description": "fail over", "steps": [
            {**step, "name": "approve", "block_type": "ManualApproval", "workloads": [], "resources": []},
            {**step, "name": "repoint-catalog", "block_type": "CustomActionLambda", "workloads": ["catalog"],
             "resources": [function]},
            {**step, "name": "together", "block_type": "Parallel", "workloads": ["catalog", "web"], "resources": [],
             "timeout_minutes": None, "steps": [
                 {**step, "name": "shift-traffic", "block_type": "Route53HealthCheck", "workloads": ["catalog"],
                  "resources": [record]},
                 {**step, "name": "scale-web", "block_type": "EC2AutoScaling", "workloads": ["web"],
                  "resources": [group]},
                 # A workload this inventory does not carry (as in a trimmed inventory): dropped at deploy.
                 {**step, "name": "promote-ledger", "block_type": "RdsPromoteReadReplica", "workloads": ["ledger"],
                  "resources": [{"kind": "rds-instance", "region": DR, "id": f"arn:aws:rds:{DR}:1:db:ledger"}]}]}]}]}


@pytest.fixture(scope="module")
def lab_server():
    declared = inventory()
    declared["recovery_plan"] = plan()
    # A private record for the repoint step (the lab deploys it from the workload's failover block).
    declared["private_zone"] = {"id": "Z-PRIVATE-FROM-PULUMI", "name": "labtest.securecart.internal"}
    declared["workloads"]["catalog"]["failover"]["private_record"] = {
        "zone_id": "Z-PRIVATE-FROM-PULUMI", "name": PRIVATE_NAME, "type": "CNAME", "ttl": 60,
        "value": "catalog-primary.writer.internal"}
    with deployed_lab(declared=declared) as (server, lab, summary):
        yield server.endpoint, lab


@pytest.fixture()
def deployed(lab_server):
    endpoint, lab = lab_server
    summary = lab.reset()
    ec2, autoscaling = client(endpoint, "ec2", DR), client(endpoint, "autoscaling", DR)
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["amzn-ami-hvm-*"]}])["Images"][0]["ImageId"]
    template = ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={
        "ImageId": image, "InstanceType": "t3.micro"})["LaunchTemplate"]["LaunchTemplateId"]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=GROUP, MinSize=0, MaxSize=2, DesiredCapacity=0, AvailabilityZones=[f"{DR}a"],
        LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"})
    yield endpoint, lab, summary
    lab.clear_faults()


def region_switch(endpoint: str):
    return client(endpoint, "arc-region-switch", DR)  # plans execute from the region being activated


def execution(endpoint: str, execution_id: str) -> dict:
    return region_switch(endpoint).get_plan_execution(planArn=PLAN_ARN, executionId=execution_id)


def private_answer(endpoint: str) -> list[str]:
    zone = next(z["Id"] for z in client(endpoint, "route53").list_hosted_zones()["HostedZones"]
                if z["Name"].rstrip(".") == "labtest.securecart.internal")
    sets = client(endpoint, "route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    [record] = [r for r in sets if r["Name"].rstrip(".") == PRIVATE_NAME]
    return [v["Value"] for v in record["ResourceRecords"]]


def test_the_deploy_points_the_plan_at_the_labs_own_zones_and_health_checks(deployed):
    endpoint, lab, summary = deployed
    deployed_plan = summary["inventory"]["recovery_plan"]["workflows"][0]["steps"]
    [resource] = deployed_plan[2]["steps"][0]["resources"]
    records = summary["inventory"]["application"]["records"]
    assert resource["health_check_id"] == next(r["health_check_id"] for r in records if r["region"] == DR)
    assert resource["health_check_id"] != "hc-dr"
    [function] = deployed_plan[1]["resources"]
    assert function["environment"]["ZONE_ID"] == summary["inventory"]["private_zone"]["id"] != "Z-PRIVATE-FROM-PULUMI"
    assert any(d["resource"].startswith("region-switch-health-checks") for d in summary["declared_not_emulated"])
    parallel = deployed_plan[2]
    assert [s["name"] for s in parallel["steps"]] == ["shift-traffic", "scale-web"]
    assert any(d["resource"] == "region-switch-steps:promote-ledger" for d in summary["declared_not_emulated"])


def test_an_execution_waits_for_approval_then_runs_parallel_blocks_on_the_lab(deployed):
    endpoint, lab, _ = deployed
    lab.add_faults([{"region": PRIMARY}])  # Route 53 moves the catalog record only when the primary is down
    started = region_switch(endpoint).start_plan_execution(planArn=PLAN_ARN, targetRegion=DR, action="activate")
    execution_id = started["executionId"]
    assert started["activateRegion"] == DR and started["deactivateRegion"] == PRIMARY

    eventually(lambda: execution(endpoint, execution_id)["executionState"] == "pendingManualApproval")
    group = client(endpoint, "autoscaling", DR).describe_auto_scaling_groups(
        AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 0, "nothing may run before the approval"
    region_switch(endpoint).approve_plan_execution_step(planArn=PLAN_ARN, executionId=execution_id,
                                                        stepName="approve", approval="approve")
    eventually(lambda: execution(endpoint, execution_id)["executionState"] == "completed", timeout=30)

    states = {s["name"]: s for s in execution(endpoint, execution_id)["stepStates"]}
    assert {name: s["status"] for name, s in states.items()} == {
        "approve": "completed", "repoint-catalog": "completed", "together": "completed",
        "shift-traffic": "completed", "scale-web": "completed"}
    traffic, scale = states["shift-traffic"], states["scale-web"]
    assert traffic["startTime"] < scale["endTime"] and scale["startTime"] < traffic["endTime"], "not run in parallel"
    assert states["repoint-catalog"]["startTime"] >= states["approve"]["endTime"]
    assert states["together"]["startTime"] >= states["repoint-catalog"]["endTime"]
    assert private_answer(endpoint) == [DR_WRITER]  # the function's UPSERT, through the lab's Route 53
    group = client(endpoint, "autoscaling", DR).describe_auto_scaling_groups(
        AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]
    assert sum(i["LifecycleState"] == "InService" for i in group["Instances"]) == 2
    events = region_switch(endpoint).list_plan_execution_events(planArn=PLAN_ARN, executionId=execution_id)["items"]
    assert [e["type"] for e in events if e.get("stepName") == "scale-web"] == ["stepStarted", "stepSucceeded"]
    assert {e["executionBlockType"] for e in events if e.get("stepName")} == {
        "ManualApproval", "CustomActionLambda", "Parallel", "Route53HealthCheck", "EC2AutoScaling"}


def test_a_failing_repoint_fails_its_step_and_nothing_after_it_runs(deployed):
    endpoint, lab, _ = deployed
    lab.add_faults([{"region": PRIMARY},
                    {"service": "route53", "operation": "ChangeResourceRecordSets"}])
    switch = region_switch(endpoint)
    execution_id = switch.start_plan_execution(planArn=PLAN_ARN, targetRegion=DR, action="activate")["executionId"]
    eventually(lambda: execution(endpoint, execution_id)["executionState"] == "pendingManualApproval")
    switch.approve_plan_execution_step(planArn=PLAN_ARN, executionId=execution_id, stepName="approve",
                                       approval="approve")
    eventually(lambda: execution(endpoint, execution_id)["executionState"] == "pausedByFailedStep", timeout=30)
    states = {s["name"]: s["status"] for s in execution(endpoint, execution_id)["stepStates"]}
    assert states["repoint-catalog"] == "failed" and states["shift-traffic"] == "notStarted"
    [failed] = [e for e in switch.list_plan_execution_events(planArn=PLAN_ARN, executionId=execution_id)["items"]
                if e["type"] == "stepFailed"]
    assert failed["stepName"] == "repoint-catalog" and "ChangeResourceRecordSets" in failed["error"]
    assert private_answer(endpoint) == ["catalog-primary.writer.internal"]


def test_a_failing_api_call_fails_its_step_and_pauses_the_execution(deployed):
    endpoint, lab, _ = deployed
    lab.add_faults([{"region": PRIMARY},
                    {"service": "autoscaling", "operation": "UpdateAutoScalingGroup", "region": DR}])
    execution_id = region_switch(endpoint).start_plan_execution(
        planArn=PLAN_ARN, targetRegion=DR, action="activate")["executionId"]
    eventually(lambda: execution(endpoint, execution_id)["executionState"] == "pendingManualApproval")
    region_switch(endpoint).approve_plan_execution_step(planArn=PLAN_ARN, executionId=execution_id,
                                                        stepName="approve", approval="approve")
    eventually(lambda: execution(endpoint, execution_id)["executionState"] == "pausedByFailedStep", timeout=30)
    states = {s["name"]: s["status"] for s in execution(endpoint, execution_id)["stepStates"]}
    assert states["scale-web"] == "failed" and states["together"] == "failed"
    [failed] = [e for e in region_switch(endpoint).list_plan_execution_events(
        planArn=PLAN_ARN, executionId=execution_id)["items"] if e["type"] == "stepFailed" and e["stepName"] == "scale-web"]
    assert "UpdateAutoScalingGroup" in failed["error"] and failed["executionBlockType"] == "EC2AutoScaling"


def test_unknown_plans_and_second_executions_are_refused_as_aws_does(deployed):
    endpoint, lab, _ = deployed
    switch = region_switch(endpoint)
    with pytest.raises(switch.exceptions.ResourceNotFoundException):
        switch.start_plan_execution(planArn=PLAN_ARN + "x", targetRegion=DR, action="activate")
    switch.start_plan_execution(planArn=PLAN_ARN, targetRegion=DR, action="activate")
    with pytest.raises(switch.exceptions.ConflictException):
        switch.start_plan_execution(planArn=PLAN_ARN, targetRegion=DR, action="activate")


# --- the game day's side: the runbook that drives the plan through the API -------------------------
# These drive `chaos.runbooks.region_switch` through the **aws** target (explicit session, endpoint
# override) pointed at the lab: on AWS the same calls reach ARC Region switch; here they run
# against the lab's implementation of StartPlanExecution, GetPlanExecution,
# ApprovePlanExecutionStep and ListPlanExecutionEvents.

def runbook_context(endpoint: str, deployed_inventory: dict, journal, monkeypatch):
    from chaos.runbooks.context import RunbookContext
    from chaos.targets.aws import AwsTarget
    from chaos.targets.inventory import parse_inventory

    # The lab accepts only its own keys (chaos.lab.auth), as AWS accepts only real ones.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", LAB_KEYS[endpoint]["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LAB_KEYS[endpoint]["aws_secret_access_key"])
    target = AwsTarget(deployed_inventory, endpoint_url=endpoint)
    inventory = parse_inventory(deployed_inventory)
    return RunbookContext(target=target, inventory=inventory, workload_name="catalog",
                          workload=inventory.workloads["catalog"],
                          routing=None, canary=None, journal=journal, scenario="region-outage", run_id="run-1",
                          fault_time=0.0, budget_seconds=30.0, poll_seconds=0.05)


def test_the_aws_target_runs_the_plan_approves_it_and_journals_every_block(deployed, monkeypatch):
    from chaos.journal import NOTE, PLAN_STARTED, PLAN_STEP, Journal
    from chaos.runbooks.region_switch import PlanExecution

    endpoint, lab, summary = deployed
    lab.add_faults([{"region": PRIMARY}])
    journal = Journal()
    ctx = runbook_context(endpoint, summary["inventory"], journal, monkeypatch)
    PlanExecution(ctx).run_or_wait(ctx)

    [started] = [e for e in journal.events() if e.kind == PLAN_STARTED]
    assert started.data["plan_arn"] == PLAN_ARN and started.data["rto_objective_seconds"] == 60.0
    steps = {e.data["name"]: e.data for e in journal.events() if e.kind == PLAN_STEP}
    assert {name: s["block_type"] for name, s in steps.items()} == {
        "approve": "ManualApproval", "repoint-catalog": "CustomActionLambda", "together": "Parallel",
        "shift-traffic": "Route53HealthCheck", "scale-web": "EC2AutoScaling"}
    assert all(s["status"] == "completed" and s["started_at"] <= s["ended_at"] for s in steps.values())
    assert any(e.kind == NOTE and "approved plan step approve" in e.data["text"] for e in journal.events())


def test_a_failed_step_is_a_runbook_error_naming_the_step_and_its_block(deployed, monkeypatch):
    from chaos.journal import PLAN_STEP, Journal
    from chaos.runbooks.context import RunbookError
    from chaos.runbooks.region_switch import PlanExecution

    endpoint, lab, summary = deployed
    lab.add_faults([{"region": PRIMARY},
                    {"service": "autoscaling", "operation": "UpdateAutoScalingGroup", "region": DR}])
    journal = Journal()
    ctx = runbook_context(endpoint, summary["inventory"], journal, monkeypatch)
    with pytest.raises(RunbookError, match=r"plan step scale-web \(EC2AutoScaling\) failed: UpdateAutoScalingGroup"):
        PlanExecution(ctx).run_or_wait(ctx)
    failed = {e.data["name"] for e in journal.events() if e.kind == PLAN_STEP and e.data["status"] == "failed"}
    assert failed == {"scale-web", "together"}


def test_an_execution_past_the_budget_is_canceled_naming_the_step_it_waits_on(deployed, monkeypatch):
    from chaos.journal import Journal
    from chaos.runbooks.context import RunbookError
    from chaos.runbooks.region_switch import PlanExecution

    endpoint, lab, summary = deployed
    # No outage: Route 53 keeps answering the primary, so the traffic step cannot complete.
    ctx = runbook_context(endpoint, summary["inventory"], Journal(), monkeypatch)
    ctx.budget_seconds = 2.0
    execution = PlanExecution(ctx)
    with pytest.raises(RunbookError, match=r"did not end within 2 s \(still inProgress; running: "
                                           r"shift-traffic \(Route53HealthCheck\)"):
        execution.run_or_wait(ctx)
    assert execution_state(endpoint, execution.execution_id) == "canceled"


def execution_state(endpoint: str, execution_id: str) -> str:
    return execution(endpoint, execution_id)["executionState"]
