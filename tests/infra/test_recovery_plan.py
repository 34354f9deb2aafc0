"""The Region switch plan and the Resilience Hub policies each stack declares (mock runtime).

Shape per strategy, the objective from the workloads' targets, approval on for prod and off for
staging, every resource a step names declared by the stack itself, and an execution role scoped to
exactly those resources."""
from __future__ import annotations

import json

import pytest

from infra.config import ConfigError, load_stack_config
from infra.offline import evaluate_stack, load_stack_file
from tests.infra.conftest import check


def steps_of(steps):
    return [s for step in steps for s in (step, *steps_of(step["steps"]))]


def plan_of(result):
    [plan] = result.of_type("aws:arcregionswitch/plan:Plan")
    return plan


def failover_workflow(inventory):
    plan = inventory["recovery_plan"]
    return next(wf for wf in plan["workflows"] if wf["target_region"] == inventory["dr_region"])


def test_prod_and_staging_declare_a_plan_and_localstack_opts_out(evaluated):
    for stack in ("prod", "staging"):
        plan = plan_of(evaluated[stack])
        check(plan.inputs["recoveryApproach"] == "activePassive", plan, "not active/passive")
        check(plan.inputs["regions"] == ["us-east-1", "us-west-2"] and plan.inputs["primaryRegion"] == "us-east-1",
              plan, "regions")
        assert evaluated[stack].inventory["recovery_plan"]["arn"] == plan.outputs["arn"]
    assert evaluated["localstack"].of_type("aws:arcregionswitch/plan:Plan") == []
    assert evaluated["localstack"].inventory["recovery_plan"] is None


def test_manual_approval_opens_the_failover_in_prod_only(evaluated):
    prod = [s["block_type"] for s in failover_workflow(evaluated["prod"].inventory)["steps"]]
    staging = [s["block_type"] for s in failover_workflow(evaluated["staging"].inventory)["steps"]]
    assert prod[0] == "ManualApproval" and "ManualApproval" not in staging
    [approval] = [s for s in plan_of(evaluated["prod"]).inputs["workflows"][0]["steps"]
                  if s["executionBlockType"] == "ManualApproval"]
    assert approval["executionApprovalConfigs"][0]["timeoutMinutes"] == 30  # Pulumi.prod.yaml


def test_failover_promotes_then_repoints_then_shifts_traffic_and_fail_back_mirrors_it(prod):
    inventory = prod.inventory
    workflows = {wf["target_region"]: wf for wf in inventory["recovery_plan"]["workflows"]}
    assert set(workflows) == {"us-east-1", "us-west-2"}
    assert all(wf["target_action"] == "activate" for wf in workflows.values())
    orders = inventory["workloads"]["orders"]
    address = {orders["stores"]["primary"]["region"]: orders["stores"]["primary"]["address"],
               **{r["region"]: r["address"] for r in orders["stores"]["replicas"]}}
    for region, workflow in workflows.items():
        # Promote, then repoint the writer's private record, then move the application's traffic.
        blocks = [s["block_type"] for s in workflow["steps"]]
        assert blocks == ["ManualApproval", "RdsPromoteReadReplica", "CustomActionLambda", "Route53HealthCheck"], \
            (region, blocks)
        _, promote, repoint, traffic = workflow["steps"]
        assert [r["region"] for r in promote["resources"]] == [region]
        [function] = repoint["resources"]
        private = orders["failover"]["private_record"]
        assert function["kind"] == "lambda-function" and function["region"] == region
        assert function["source"] == "infra/functions/repoint_record.py"
        assert function["environment"] == {"ZONE_ID": inventory["private_zone"]["id"], "RECORD_NAME": private["name"],
                                           "RECORD_TYPE": "CNAME", "RECORD_TTL": str(private["ttl"]),
                                           "RECORD_VALUE": address[region]}
        # One step for the application's record, its answer and health check in the activated region.
        [record] = traffic["resources"]
        [answer] = [a for a in inventory["application"]["records"] if a["region"] == region]
        assert record["id"] == inventory["application"]["record_name"]
        assert (record["set_identifier"], record["health_check_id"]) == (answer["set_identifier"],
                                                                         answer["health_check_id"])
        behind = sorted(n for n, w in inventory["workloads"].items() if w["strategy"] != "backup-restore")
        assert sorted(traffic["workloads"]) == behind


def test_each_region_runs_its_own_repoint_function(prod):
    functions = {f.region: f for f in prod.of_type("aws:lambda/function:Function") if "repoint-orders" in f.name}
    assert set(functions) == {"us-east-1", "us-west-2"}
    values = {r: f.inputs["environment"]["variables"]["RECORD_VALUE"] for r, f in functions.items()}
    assert len(set(values.values())) == 2  # each answers its own region's writer
    [step] = [s for s in plan_of(prod).inputs["workflows"][0]["steps"]
              if s["executionBlockType"] == "CustomActionLambda"]
    config = step["customActionLambdaConfigs"][0]
    assert config["regionToRun"] == "activatingRegion"
    assert sorted(l["arn"] for l in config["lambdas"]) == sorted(f.outputs["arn"] for f in functions.values())
    [policy] = [r for r in prod.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("region-switch-repoint-policy")]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    private = prod.inventory["private_zone"]["id"]
    assert statements["RepointRecords"]["Resource"] == [f"arn:aws:route53:::hostedzone/{private}"]
    names = statements["RepointRecords"]["Condition"]["ForAllValues:StringEquals"][
        "route53:ChangeResourceRecordSetsNormalizedRecordNames"]
    assert names == [prod.inventory["workloads"]["orders"]["failover"]["private_record"]["name"].rstrip(".")]


def test_the_objective_is_the_tightest_rto_the_plan_acts_on(evaluated):
    for stack in ("prod", "staging"):
        inventory = evaluated[stack].inventory
        acted_on = {w for s in steps_of(failover_workflow(inventory)["steps"]) for w in s["workloads"]}
        tightest = min(inventory["workloads"][w]["targets"]["rto_seconds"] for w in acted_on)
        assert inventory["recovery_plan"]["rto_objective_minutes"] == max(1, int(tightest // 60))
    # catalog (active-active, no data step) counts: its traffic moves with the application's record.
    prod = evaluated["prod"].inventory
    assert "catalog" in {w for s in steps_of(failover_workflow(prod)["steps"]) for w in s["workloads"]}
    assert prod["recovery_plan"]["rto_objective_minutes"] == 3  # 180 s: the warm-standby and active-active RTOs


def test_workloads_without_a_step_are_listed_with_why(prod):
    plan = prod.inventory["recovery_plan"]
    reasons = {item["workload"]: item["reason"] for item in plan["no_step"]}
    assert "writable in both regions" in reasons["catalog"] and "writable in both regions" in reasons["sessions"]
    assert "switches buckets" in reasons["product-images"]
    assert "AWS Backup" in reasons["logs"] and "read-only" in reasons["app-logs"]
    assert "Auto Scaling group in each region" in reasons["compute"]
    for workload, reason in reasons.items():
        assert f"{workload} ({reason})" in plan["description"]


def test_every_resource_a_step_names_is_declared_by_the_stack(evaluated):
    for stack in ("prod", "staging"):
        result = evaluated[stack]
        inventory = result.inventory
        declared_arns = {r.outputs.get("arn") for r in result.resources if r.custom}
        set_ids = {r.inputs.get("setIdentifier") for r in result.of_type("aws:route53/record:Record")}
        check_ids = {r.id for r in result.of_type("aws:route53/healthCheck:HealthCheck")}
        for workflow in inventory["recovery_plan"]["workflows"]:
            for step in steps_of(workflow["steps"]):
                for resource in step["resources"]:
                    where = f"{stack}: step {step['name']} names {resource}"
                    if resource["kind"] == "route53-record":
                        assert resource["set_identifier"] in set_ids, where
                        assert resource["health_check_id"] in check_ids, where
                        assert resource["hosted_zone_id"] == inventory["hosted_zone"]["id"], where
                    else:
                        assert resource["id"] in declared_arns, where
        plan = inventory["recovery_plan"]
        for arn in (plan["execution_role_arn"], plan["approver_role_arn"], *(a["arn"] for a in plan["associated_alarms"])):
            assert arn in declared_arns, f"{stack}: {arn} is not declared"
        assert plan["report_bucket"] == inventory["backup"]["report_bucket"]


def test_the_execution_role_may_touch_only_what_the_steps_name(prod):
    [policy] = [r for r in prod.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("region-switch-execution-policy")]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    rds = {r.outputs["arn"] for r in prod.of_type("aws:rds/instance:Instance") if "orders" in r.name}
    assert set(statements["PromoteReplicas"]["Resource"]) == rds
    functions = {f.outputs["arn"] for f in prod.of_type("aws:lambda/function:Function")}
    assert set(statements["RunRepointFunctions"]["Resource"]) == functions
    assert statements["RunRepointFunctions"]["Action"] == ["lambda:GetFunction", "lambda:InvokeFunction"]
    assert statements["WriteReports"]["Resource"].endswith("/region-switch/*")
    wildcard = {sid for sid, s in statements.items() if s["Resource"] == "*"}
    assert wildcard == set(), wildcard  # no EC2AutoScaling step in prod: not even DescribeAutoScalingGroups
    [role] = [r for r in prod.of_type("aws:iam/role:Role") if r.name.endswith("region-switch-execution")]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "arc-region-switch.amazonaws.com"}


@pytest.mark.parametrize("workloads, expected", [
    # pilot-light RDS: promote, repoint its private record, then the application's traffic step.
    ({"orders": {"kind": "rds", "strategy": "pilot-light", "backupTier": "critical"}},
     {"RdsPromoteReadReplica", "CustomActionLambda", "Route53HealthCheck"}),
    # active-active DynamoDB beside warm-standby S3: failover routing (not all active-active), so
    # the application's record moves; no data step.
    ({"catalog": {"kind": "dynamodb", "strategy": "active-active", "backupTier": "standard"},
      "images": {"kind": "s3", "strategy": "warm-standby", "backupTier": "critical"}},
     {"Route53HealthCheck"}),
    # backup-restore only: nothing for a plan to switch, so no plan (the policies stay).
    ({"logs": {"kind": "s3", "strategy": "backup-restore", "backupTier": "critical"}}, None),
])
def test_plan_shape_per_strategy(workloads, expected):
    result = evaluate_stack("staging", overrides={"securecart-dr:workloads": workloads})
    plan = result.inventory["recovery_plan"]
    assert result.inventory["resiliency_policies"] is not None
    if expected is None:
        assert plan is None and result.of_type("aws:arcregionswitch/plan:Plan") == []
        return
    blocks = {s["block_type"] for s in steps_of(failover_workflow(result.inventory)["steps"])} - {"Parallel"}
    assert blocks == expected


def test_resiliency_policies_follow_the_workloads_targets(prod):
    inventory = prod.inventory
    strategies = {w["strategy"] for w in inventory["workloads"].values()}
    policies = inventory["resiliency_policies"]
    assert set(policies) == strategies
    for strategy, policy in policies.items():
        members = [w["targets"] for w in inventory["workloads"].values() if w["strategy"] == strategy]
        rto, rpo = min(t["rto_seconds"] for t in members), min(t["rpo_seconds"] for t in members)
        for disruption in ("az", "hardware", "software", "region"):
            assert policy["policy"][disruption] == {"rto": f"{int(rto)}s", "rpo": f"{int(rpo)}s"}, (strategy, disruption)
    assert policies["warm-standby"]["policy"]["region"]["rpo"] == "90s"  # sessions tightened it (Pulumi.prod.yaml)
    groups = prod.of_type("aws:resourcegroups/group:Group")
    assert sorted(g.region for g in groups) == ["us-east-1", "us-west-2"]
    for group in groups:
        query = json.loads(group.inputs["resourceQuery"]["query"])
        assert query["TagFilters"] == [{"Key": "resilience-hub-app", "Values": ["securecart-prod"]}]
    assert inventory["tags"]["resilience-hub-app"] == "securecart-prod"  # on every resource (default tags)


@pytest.mark.parametrize("change, key, words", [
    ({"manualApproval": "sometimes"}, "recoveryPlan.manualApproval", "true or false"),
    ({"approvalTimeoutMinutes": 0}, "recoveryPlan.approvalTimeoutMinutes", "below the minimum"),
    ({"cadence": 1}, "recoveryPlan.cadence", "unknown key"),
])
def test_bad_recovery_plan_config_names_the_key(change, key, words):
    config = load_stack_file("staging")
    config["securecart-dr:recoveryPlan"] = {**config["securecart-dr:recoveryPlan"], **change}
    with pytest.raises(ConfigError, match=rf"securecart-dr:{key}: .*{words}"):
        load_stack_config(config)


def test_a_region_without_region_switch_is_refused_unless_the_plan_is_off():
    # The whole stack moved to the China Regions (endpoints and network are keyed by region too).
    moved = json.dumps(load_stack_file("staging")).replace("us-east-1", "cn-north-1").replace("us-west-2",
                                                                                             "cn-northwest-1")
    config = json.loads(moved)
    with pytest.raises(ConfigError, match=r"securecart-dr:recoveryPlan.enabled: ARC Region switch is not offered in cn-north-1"):
        load_stack_config(config)
    config["securecart-dr:recoveryPlan"] = {"enabled": False}
    assert load_stack_config(config).recovery_plan.enabled is False


# --- the component alone: a capacity step (no stack declares one yet: docs/recovery-plan.md) -----

def test_the_component_scales_the_activated_regions_group_within_a_parallel_block():
    import pulumi_aws as aws

    from infra.components.recovery_plan import (CapacityIncrease, RecoveryPlanError, RegionSwitchPlan,
                                                RegionSwitchPlanArgs, ReplicaPromotion, validate_plan_args)
    from infra.offline import run_program

    groups = {r: f"arn:aws:autoscaling:{r}:123456789012:autoScalingGroup:1:autoScalingGroupName/web-{r}"
              for r in ("us-east-1", "us-west-2")}
    capacity = CapacityIncrease("web", groups, {r: f"web-{r}" for r in groups}, standby_capacity=0,
                                target_capacity=4, rto_seconds=900)
    promotion = ReplicaPromotion("orders", {r: f"arn:aws:rds:{r}:123456789012:db:orders-{r}" for r in groups}, 1800)

    def args(providers, **changes):
        return RegionSwitchPlanArgs(
            plan_name="securecart-test", primary_region="us-east-1", dr_region="us-west-2", providers=providers,
            alarm_arns={"guardrail": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:guardrail"},
            report_bucket="reports", report_bucket_arn="arn:aws:s3:::reports", **changes)

    def program() -> None:
        providers = {r: aws.Provider(f"aws-{r}", region=r) for r in groups}
        RegionSwitchPlan("test", args(providers, capacity=[capacity], promotions=[promotion]))

    result = run_program(program)
    [plan] = result.of_type("aws:arcregionswitch/plan:Plan")
    assert plan.inputs["recoveryTimeObjectiveMinutes"] == 15  # web's 900 s
    failover = next(wf for wf in plan.inputs["workflows"] if wf["workflowTargetRegion"] == "us-west-2")
    [parallel] = failover["steps"]
    children = {s["executionBlockType"]: s for s in parallel["parallelConfigs"][0]["steps"]}
    assert set(children) == {"RdsPromoteReadReplica", "EC2AutoScaling"}
    scaling = children["EC2AutoScaling"]["ec2AsgCapacityIncreaseConfigs"][0]
    assert [a["arn"] for a in scaling["asgs"]] == [groups["us-east-1"], groups["us-west-2"]]  # one per region
    assert scaling["targetPercent"] == 100 and scaling["timeoutMinutes"] == 15
    fail_back = next(wf for wf in plan.inputs["workflows"] if wf["workflowTargetRegion"] == "us-east-1")
    assert [s["executionBlockType"] for s in fail_back["steps"]] == ["RdsPromoteReadReplica"]  # primary runs no group
    [policy] = [r for r in result.of_type("aws:iam/rolePolicy:RolePolicy") if r.name == "test-execution-policy"]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["ScaleGroups"]["Resource"] == list(groups.values())

    one_group = CapacityIncrease("web", {"us-west-2": groups["us-west-2"]}, {}, 0, 4, 900)
    with pytest.raises(RecoveryPlanError, match=r"capacity\[web\].group_arns: EC2AutoScaling needs exactly one"):
        validate_plan_args(args({r: object() for r in groups}, capacity=[one_group]))
