"""The stack's ARC Region switch plan: the recovery AWS itself runs when the primary region is lost.

An active/passive plan between the primary and the DR region (`aws.arcregionswitch.Plan`), built
from what the stores declared:

* **activate the DR region** (failover): an optional manual approval, then the data and compute
  steps side by side in a `Parallel` block (each workload's `RdsPromoteReadReplica`, the compute
  tier's `EC2AutoScaling`), then each promoted database's private record repointed at it (a
  `CustomActionLambda` running infra/functions/repoint_record.py: writers never reach a read-only
  replica), then one `Route53HealthCheck` step for the application's record (its health check per
  region) once the data is ready behind it;
* **activate the primary region again** (fail back): AWS runs an active/passive plan's fail back as
  the activation of the other Region ("one workflow per Region", AWS user guide: Region switch
  components). It undoes the failover with the regions swapped: data is made writable in the
  primary region before the traffic returns to it.

What the plan carries besides its steps: `recovery_time_objective_minutes` from the tightest RTO
of the workloads it acts on; the stack's guard-rail alarms as application-health alarms; execution
reports written to the report bucket; an execution role allowed exactly the calls the blocks make,
on exactly the resources they name (and the report key, when the report bucket has one); an
approver role for the manual approval step. Workloads whose recovery needs no step (DynamoDB global
tables are writable in both regions already; S3 needs the application to switch buckets;
backup-restore restores from AWS Backup) are listed in the plan's description.

Facts used here, read 2026-11-30:
- step types, workflow actions, `asgs` exactly 2 (one Auto Scaling group per Region), plan name
  <= 32 characters, plan ARN `arn:aws:arc-region-switch::<account>:plan/<name>:<suffix>`: the
  `arc-region-switch` service model in botocore 1.44 (`.venv`, service-2.json);
- RdsPromoteReadReplica "promotes the read replica in the Region that you're activating" and
  "only supports active/passive plans":
  https://docs.aws.amazon.com/r53recovery/latest/dg/rds-promote-read-replica-block.html;
- report and alarm permissions (`s3:PutObject`, `cloudwatch:DescribeAlarms`,
  `cloudwatch:DescribeAlarmHistory`, `kms:GenerateDataKey`/`kms:Encrypt` for a KMS-encrypted
  bucket): https://docs.aws.amazon.com/r53recovery/latest/dg/security_iam_region_switch_reports.html;
- EC2 Auto Scaling permissions (`autoscaling:DescribeAutoScalingGroups` on `*`,
  `autoscaling:UpdateAutoScalingGroup` on the groups):
  https://docs.aws.amazon.com/r53recovery/latest/dg/security_iam_region_switch_ec2_autoscaling.html;
- a custom action Lambda step names "two Lambda functions for the step to execute, one in each of
  the plan's Regions", and runs the one of the Region chosen by `regionToRun`:
  https://docs.amazonaws.cn/en_us/r53recovery/latest/dg/custom-action-lambda-block.html; the
  execution role needs `lambda:GetFunction` and `lambda:InvokeFunction` on both functions:
  https://docs.amazonaws.cn/en_us/r53recovery/latest/dg/security_iam_region_switch_lambda.html;
  pulumi-aws 7.51.1 takes no per-function payload (`PlanWorkflowStepCustomActionLambdaConfigLambdaArgs`
  has `arn`, `cross_account_role`, `external_id`), so each Region's function carries its target in
  its environment.
  The RDS and Route 53 statements below name the API calls those blocks make (their sample
  policies were not read in full here: an estimate to check against
  security_iam_region_switch_rds.html and security_iam_region_switch_route53.html).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from infra.components import iam
from infra.components.regions import check_two_regions
from infra.functions import repoint_record

SERVICE_PRINCIPAL = "arc-region-switch.amazonaws.com"
PLAN_NAME_MAX = 32  # botocore arc-region-switch model: PlanName max 32
REPORT_PREFIX = "region-switch"
CAPACITY_MONITORING = "sampledMaxInLast24Hours"

# Execution block types (botocore arc-region-switch model, ExecutionBlockType).
RDS_PROMOTE = "RdsPromoteReadReplica"
EC2_AUTOSCALING = "EC2AutoScaling"
ROUTE53_HEALTH_CHECK = "Route53HealthCheck"
MANUAL_APPROVAL = "ManualApproval"
CUSTOM_LAMBDA = "CustomActionLambda"
PARALLEL = "Parallel"

# The private-record repoint function (one per Region): its code, runtime and limits.
REPOINT_SOURCE = Path(repoint_record.__file__)
LAMBDA_RUNTIME = "python3.12"
LAMBDA_MAX_TIMEOUT_SECONDS = 900  # AWS Lambda's maximum function timeout
FUNCTION_NAME_MAX = 64  # AWS Lambda function names
LAMBDA_RETRY_INTERVAL_MINUTES = 1.0
ROUTE53_RECORD_NAMES_KEY = "route53:ChangeResourceRecordSetsNormalizedRecordNames"


class RecoveryPlanError(ValueError):
    """A plan AWS would refuse; the message is one line naming the field."""


@dataclass(frozen=True)
class ReplicaPromotion:
    """One RDS workload whose replica in the activated region is promoted."""

    workload: str
    instance_arns: Mapping[str, pulumi.Input[str]]
    """Region -> the DB instance in that region (the primary, and its cross-region replica)."""
    rto_seconds: float
    """The workload's RTO: the step's timeout and the plan's objective are derived from it."""


@dataclass(frozen=True)
class CapacityIncrease:
    """The compute tier: the activated region's Auto Scaling group is scaled up."""

    workload: str
    group_arns: Mapping[str, pulumi.Input[str]]
    """Region -> Auto Scaling group ARN; Region switch needs one per Region."""
    group_names: Mapping[str, pulumi.Input[str]]
    standby_capacity: int
    """Desired capacity of the DR group before failover: 0 (pilot-light) or the warm size."""
    target_capacity: int
    """What the activated region must run: the primary's instance count."""
    rto_seconds: float
    target_percent: int = 100
    """Capacity to reach, in percent of what the other Region ran (Region switch semantics)."""


@dataclass(frozen=True)
class PrivateRecordRepoint:
    """An RDS workload's private record, repointed at the promoted instance after its promotion."""

    workload: str
    zone_id: pulumi.Input[str]
    """The private hosted zone (both regions' VPCs)."""
    record_name: str
    record_type: pulumi.Input[str]
    ttl_seconds: int
    values: Mapping[str, pulumi.Input[str]]
    """Region -> what the record answers when that region is active (its DB instance's address)."""
    rto_seconds: float


@dataclass(frozen=True)
class TrafficShift:
    """The application's record: its traffic moves to the activated region (one answer per region)."""

    workloads: tuple[str, ...]
    """The workloads behind the application endpoint whose strategy fails over (their RTOs bound the step)."""
    hosted_zone_id: pulumi.Input[str]
    record_name: str
    record_set_identifiers: Mapping[str, pulumi.Input[str]]
    """Region -> the set identifier of that region's answer."""
    health_check_ids: Mapping[str, pulumi.Input[str]]
    """Region -> the stack's health check of that region's endpoint (what the lab waits on)."""
    rto_seconds: float


@dataclass(frozen=True)
class Uncovered:
    """A workload the plan has no step for, and why (listed in the plan's description)."""

    workload: str
    reason: str


@dataclass
class RegionSwitchPlanArgs:
    """Inputs of :class:`RegionSwitchPlan`."""

    plan_name: str
    """Physical plan name (1-32 letters, digits, dashes)."""
    primary_region: str
    dr_region: str
    providers: Mapping[str, aws.Provider]
    """One provider per region; the plan and the IAM roles are declared in the primary region."""
    alarm_arns: Mapping[str, pulumi.Input[str]]
    """Alarm key (e.g. ``guardrail-us-east-1``) -> CloudWatch alarm ARN: the application-health alarms."""
    report_bucket: pulumi.Input[str]
    """Bucket name the execution reports are written to."""
    report_bucket_arn: pulumi.Input[str]
    promotions: Sequence[ReplicaPromotion] = ()
    capacity: Sequence[CapacityIncrease] = ()
    repoints: Sequence[PrivateRecordRepoint] = ()
    """Private records repointed after the promotions, before traffic moves."""
    traffic: TrafficShift | None = None
    uncovered: Sequence[Uncovered] = ()
    manual_approval: bool = False
    """Insert a ManualApproval step before each activation."""
    approval_timeout_minutes: int = 60
    report_kms_key_arn: pulumi.Input[str] | None = None
    """The report bucket's customer managed key, if it has one (SSE-S3 buckets need none)."""
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def has_steps(self) -> bool:
        """Something to promote, scale or shift (a plan without steps cannot be executed)."""
        return bool(self.promotions or self.capacity or self.traffic)

    @property
    def covered(self) -> list[tuple[str, float]]:
        """(workload, RTO) of every item the plan acts on."""
        items: list[tuple[str, float]] = [(i.workload, i.rto_seconds)
                                          for group in (self.promotions, self.capacity, self.repoints) for i in group]
        if self.traffic is not None:
            items += [(w, self.traffic.rto_seconds) for w in self.traffic.workloads]
        return items


@dataclass(frozen=True)
class StepResource:
    """A resource a step acts on, as the inventory lists it."""

    kind: str  # rds-instance | autoscaling-group | lambda-function | route53-record | iam-role
    region: str
    identifier: pulumi.Input[str]  # ARN, group name or record name
    detail: Mapping[str, pulumi.Input] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanStep:
    """One step of a workflow, in plain data: the plan's argument and the inventory's entry come from it."""

    name: str
    block_type: str
    description: str
    workloads: tuple[str, ...]
    resources: tuple[StepResource, ...] = ()
    timeout_minutes: int | None = None
    children: tuple["PlanStep", ...] = ()
    config: Mapping[str, pulumi.Input] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanWorkflow:
    target_action: str
    target_region: str
    description: str
    steps: tuple[PlanStep, ...]


def minutes(seconds: float) -> int:
    """A timeout or objective in whole minutes, never looser than `seconds` (at least 1)."""
    return max(1, math.floor(seconds / 60))


def validate_plan_args(args: RegionSwitchPlanArgs) -> None:
    check_two_regions("RegionSwitchPlanArgs", args.primary_region, args.dr_region, args.providers, RecoveryPlanError)
    if not 1 <= len(args.plan_name) <= PLAN_NAME_MAX:
        raise RecoveryPlanError(f"RegionSwitchPlanArgs.plan_name: {args.plan_name!r} has {len(args.plan_name)} "
                                f"characters; Region switch takes 1-{PLAN_NAME_MAX}")
    if not args.has_steps:
        raise RecoveryPlanError("RegionSwitchPlanArgs: no step to run (no replica, group or failover record); "
                                "disable the plan for this stack")
    regions = {args.primary_region, args.dr_region}
    for item in args.capacity:
        if set(item.group_arns) != regions:
            raise RecoveryPlanError(f"RegionSwitchPlanArgs.capacity[{item.workload}].group_arns: EC2AutoScaling needs "
                                    f"exactly one Auto Scaling group in each of {sorted(regions)}")
    for item in args.promotions:
        if set(item.instance_arns) != regions:
            raise RecoveryPlanError(f"RegionSwitchPlanArgs.promotions[{item.workload}].instance_arns: name the DB "
                                    f"instance in each of {sorted(regions)}")
    promoted = {p.workload for p in args.promotions}
    for item in args.repoints:
        if set(item.values) != regions:
            raise RecoveryPlanError(f"RegionSwitchPlanArgs.repoints[{item.workload}].values: name the writer's "
                                    f"address in each of {sorted(regions)}")
        if item.workload not in promoted:
            raise RecoveryPlanError(f"RegionSwitchPlanArgs.repoints[{item.workload}]: no promotion of that workload "
                                    "precedes it; a record repointed at an unpromoted replica sends writers to a "
                                    "read-only instance")


def _together(name: str, description: str, steps: list[PlanStep]) -> list[PlanStep]:
    """Independent steps side by side: one Parallel block, or the step itself when alone."""
    if len(steps) <= 1:
        return steps
    return [PlanStep(name=name, block_type=PARALLEL, description=description,
                     workloads=tuple(w for s in steps for w in s.workloads), children=tuple(steps))]


def activation_steps(args: RegionSwitchPlanArgs, region: str, approval_role_arn: pulumi.Input[str],
                     functions: Mapping[str, RepointFunctions] | None = None) -> list[PlanStep]:
    """The steps that make `region` the active one, in the order AWS runs them.

    `functions`: workload -> its repoint function per region (the component declares them; a plan
    preview without them names placeholders).
    """
    steps: list[PlanStep] = []
    if args.manual_approval:
        steps.append(PlanStep(
            name=f"approve-{region}", block_type=MANUAL_APPROVAL,
            description=f"An operator confirms that {region} is to become the active region",
            workloads=(), timeout_minutes=args.approval_timeout_minutes,
            resources=(StepResource("iam-role", "global", approval_role_arn),),
            config={"approval_role": approval_role_arn}))
    data_and_compute = [
        PlanStep(name=f"promote-{p.workload}-{region}", block_type=RDS_PROMOTE,
                 description=f"Promote the {p.workload} DB instance in {region} to a standalone writer",
                 workloads=(p.workload,), timeout_minutes=minutes(p.rto_seconds),
                 resources=(StepResource("rds-instance", region, p.instance_arns[region]),),
                 config={"db_instance_arn_map": dict(p.instance_arns)})
        for p in args.promotions
    ]
    if region == args.dr_region:  # the primary region's compute is not scaled down by a plan
        data_and_compute += [
            PlanStep(name=f"scale-{c.workload}-{region}", block_type=EC2_AUTOSCALING,
                     description=(f"Scale the {c.workload} group in {region} from {c.standby_capacity} to "
                                  f"{c.target_percent}% of the other region's capacity ({c.target_capacity})"),
                     workloads=(c.workload,), timeout_minutes=minutes(c.rto_seconds),
                     resources=(StepResource("autoscaling-group", region, c.group_arns[region], {
                         "name": c.group_names[region], "from_capacity": c.standby_capacity,
                         "to_capacity": c.target_capacity}),),
                     config={"asgs": [c.group_arns[r] for r in (args.primary_region, args.dr_region)],
                             "target_percent": c.target_percent})
            for c in args.capacity
        ]
    steps += _together(f"activate-data-{region}", f"Data and compute made ready in {region}", data_and_compute)
    # After the promotions (sequential steps run in order): a writer resolving the record then
    # reaches an instance that accepts writes.
    repoints = []
    for r in args.repoints:
        fn = (functions or {}).get(r.workload) or RepointFunctions.placeholder(r.workload, args)
        repoints.append(PlanStep(
            name=f"repoint-{r.workload}-{region}", block_type=CUSTOM_LAMBDA,
            description=f"Repoint {r.record_name} at the promoted {r.workload} writer in {region}",
            workloads=(r.workload,), timeout_minutes=minutes(r.rto_seconds),
            resources=(StepResource("lambda-function", region, fn.arns[region], {
                "name": fn.names[region], "source": repoint_record.SOURCE_ID, "environment": fn.environment(r, region)}),),
            config={"lambdas": [fn.arns[reg] for reg in (args.primary_region, args.dr_region)]}))
    steps += _together(f"repoint-records-{region}", f"Private records moved to the {region} writers", repoints)
    t = args.traffic
    if t is not None:
        steps.append(PlanStep(
            name=f"shift-traffic-{region}", block_type=ROUTE53_HEALTH_CHECK,
            description=f"Route 53 answers {t.record_name} with the {region} endpoint",
            workloads=t.workloads, timeout_minutes=minutes(t.rto_seconds),
            resources=(StepResource("route53-record", region, t.record_name, {
                "hosted_zone_id": t.hosted_zone_id, "set_identifier": t.record_set_identifiers[region],
                "health_check_id": t.health_check_ids[region]}),),
            config={"hosted_zone_id": t.hosted_zone_id, "record_name": t.record_name,
                    "record_sets": dict(t.record_set_identifiers)}))
    return steps


@dataclass(frozen=True)
class RepointFunctions:
    """One workload's repoint function in each region (ARC runs the activated region's)."""

    names: Mapping[str, str]
    arns: Mapping[str, pulumi.Input[str]]

    @staticmethod
    def function_name(args: RegionSwitchPlanArgs, workload: str) -> str:
        return f"{args.plan_name}-repoint-{workload}"[:FUNCTION_NAME_MAX]

    @classmethod
    def placeholder(cls, workload: str, args: RegionSwitchPlanArgs) -> "RepointFunctions":
        """Names without ARNs: for a plan built outside the component (tests of the step order)."""
        name = cls.function_name(args, workload)
        regions = (args.primary_region, args.dr_region)
        return cls(names={r: name for r in regions}, arns={r: f"function:{r}:{name}" for r in regions})

    @staticmethod
    def environment(item: PrivateRecordRepoint, region: str) -> dict[str, pulumi.Input[str]]:
        """What the function in `region` is told (infra/functions/repoint_record.py ENV_KEYS)."""
        return {"ZONE_ID": item.zone_id, "RECORD_NAME": item.record_name, "RECORD_TYPE": item.record_type,
                "RECORD_TTL": str(item.ttl_seconds), "RECORD_VALUE": item.values[region]}


def workflows(args: RegionSwitchPlanArgs, approval_role_arn: pulumi.Input[str],
              functions: Mapping[str, RepointFunctions] | None = None) -> list[PlanWorkflow]:
    return [
        PlanWorkflow("activate", args.dr_region, f"Fail over: make {args.dr_region} the active region",
                     tuple(activation_steps(args, args.dr_region, approval_role_arn, functions))),
        PlanWorkflow("activate", args.primary_region,
                     f"Fail back: make {args.primary_region} the active region again (regions swapped)",
                     tuple(activation_steps(args, args.primary_region, approval_role_arn, functions))),
    ]


def objective_minutes(args: RegionSwitchPlanArgs) -> int:
    """The tightest RTO among the workloads the plan acts on."""
    return minutes(min(rto for _, rto in args.covered))


def description(args: RegionSwitchPlanArgs) -> str:
    covered = sorted({workload for workload, _ in args.covered})
    lines = [f"SecureCart active/passive {args.primary_region} -> {args.dr_region}. Steps for: {', '.join(covered)}."]
    if args.uncovered:
        lines.append("No data step: " + "; ".join(f"{u.workload} ({u.reason})" for u in args.uncovered) + ".")
    return " ".join(lines)


def _block_config(step: PlanStep, parallel_child: bool = False) -> dict[str, object]:
    """The SDK argument for one step (Parallel children use the same fields, without nesting)."""
    base: dict[str, object] = {"name": step.name, "execution_block_type": step.block_type,
                               "description": step.description}
    c = step.config
    if step.block_type == MANUAL_APPROVAL:
        base["execution_approval_configs"] = [{"approval_role": c["approval_role"],
                                               "timeout_minutes": step.timeout_minutes}]
    elif step.block_type == RDS_PROMOTE:
        base["rds_promote_read_replica_configs"] = [{"db_instance_arn_map": c["db_instance_arn_map"],
                                                     "timeout_minutes": step.timeout_minutes}]
    elif step.block_type == CUSTOM_LAMBDA:
        # No `ungraceful` block: its only behavior is `skip`, and an ungraceful failover (the primary
        # is lost) must still repoint the writer's record.
        base["custom_action_lambda_configs"] = [{
            "lambdas": [{"arn": arn} for arn in c["lambdas"]], "region_to_run": "activatingRegion",
            "retry_interval_minutes": LAMBDA_RETRY_INTERVAL_MINUTES, "timeout_minutes": step.timeout_minutes}]
    elif step.block_type == EC2_AUTOSCALING:
        base["ec2_asg_capacity_increase_configs"] = [{
            "asgs": [{"arn": arn} for arn in c["asgs"]], "capacity_monitoring_approach": CAPACITY_MONITORING,
            "target_percent": c["target_percent"], "timeout_minutes": step.timeout_minutes}]
    elif step.block_type == ROUTE53_HEALTH_CHECK:
        base["route53_health_check_configs"] = [{
            "hosted_zone_id": c["hosted_zone_id"], "record_name": c["record_name"],
            "record_sets": [{"record_set_identifier": set_id, "region": region}
                            for region, set_id in c["record_sets"].items()],
            "timeout_minutes": step.timeout_minutes}]
    elif step.block_type == PARALLEL:
        if parallel_child:
            raise RecoveryPlanError(f"plan step {step.name}: a Parallel block cannot hold another Parallel block")
        base["parallel_configs"] = [{"steps": [_block_config(child, True) for child in step.children]}]
    return base


class RegionSwitchPlan(pulumi.ComponentResource):
    """The Region switch plan, its execution role, its approver role and its repoint functions."""

    plan: aws.arcregionswitch.Plan
    execution_role: aws.iam.Role
    approver_role: aws.iam.Role
    repoint_role: aws.iam.Role | None
    repoint_functions: dict[str, dict[str, aws.lambda_.Function]]  # workload -> region -> function
    workflows: list[PlanWorkflow]
    objective_minutes: int
    description: str

    def __init__(self, name: str, args: RegionSwitchPlanArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("securecart:recovery:RegionSwitchPlan", name, None, opts)
        validate_plan_args(args)
        home = pulumi.ResourceOptions(parent=self, provider=args.providers[args.primary_region])
        self._args = args
        account = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self, provider=args.providers[args.primary_region])).account_id

        self.approver_role = iam.role(
            f"{name}-approver", trusted={"AWS": pulumi.Output.concat("arn:aws:iam::", account, ":root")},
            description="Assumed by the operator who approves a Region switch (ManualApproval step)",
            tags=args.tags, opts=home)
        self.repoint_role, self.repoint_functions = None, {}
        functions = self._repoint_functions(name, account) if args.repoints else {}
        self.execution_role = iam.role(
            f"{name}-execution", trusted=iam.service(SERVICE_PRINCIPAL),
            description="Assumed by ARC Region switch to run the plan's execution blocks",
            inline_policy=self._execution_policy(), inline_policy_name=f"{name}-execution-policy",
            tags=args.tags, opts=home)

        self.workflows = workflows(args, self.approver_role.arn, functions)
        self.objective_minutes = objective_minutes(args)
        self.description = description(args)
        self.plan = aws.arcregionswitch.Plan(
            f"{name}-plan",
            name=args.plan_name,
            description=self.description,
            recovery_approach="activePassive",
            primary_region=args.primary_region,
            regions=[args.primary_region, args.dr_region],
            execution_role=self.execution_role.arn,
            recovery_time_objective_minutes=self.objective_minutes,
            associated_alarms=[
                aws.arcregionswitch.PlanAssociatedAlarmArgs(
                    map_block_key=key, alarm_type="applicationHealth", resource_identifier=arn)
                for key, arn in args.alarm_arns.items()
            ],
            report_configurations=[aws.arcregionswitch.PlanReportConfigurationArgs(report_outputs=[
                aws.arcregionswitch.PlanReportConfigurationReportOutputArgs(s3_configurations=[
                    aws.arcregionswitch.PlanReportConfigurationReportOutputS3ConfigurationArgs(
                        bucket_owner=account,
                        bucket_path=pulumi.Output.concat("s3://", args.report_bucket, f"/{REPORT_PREFIX}/"))])])],
            workflows=[
                {"workflow_target_action": wf.target_action, "workflow_target_region": wf.target_region,
                 "workflow_description": wf.description,
                 "steps": [_block_config(step) for step in wf.steps]}
                for wf in self.workflows
            ],
            tags=dict(args.tags),
            opts=home,
        )
        # The approver may approve steps of this plan and read its executions, nothing else. Declared
        # after the plan (its ARN carries a suffix AWS chooses), which needs the role first.
        aws.iam.RolePolicy(
            f"{name}-approver-policy", role=self.approver_role.id,
            policy=iam.policy_document([iam.statement(
                ["arc-region-switch:ApprovePlanExecutionStep", "arc-region-switch:GetPlanExecution",
                 "arc-region-switch:ListPlanExecutionEvents"], self.plan.arn)]),
            opts=home)

        self.register_outputs({"plan_arn": self.plan.arn, "execution_role_arn": self.execution_role.arn,
                               "recovery_time_objective_minutes": self.objective_minutes})

    def _repoint_functions(self, name: str, account: pulumi.Output[str]) -> dict[str, RepointFunctions]:
        """Each repointed record's function in both regions, and the one role they run as."""
        args = self._args
        home = pulumi.ResourceOptions(parent=self, provider=args.providers[args.primary_region])
        names = {r.workload: RepointFunctions.function_name(args, r.workload) for r in args.repoints}
        zone_ids = list({id(r.zone_id): r.zone_id for r in args.repoints}.values())
        log_groups = [pulumi.Output.concat("arn:aws:logs:", region, ":", account, ":log-group:/aws/lambda/", fn, ":*")
                      for fn in names.values() for region in (args.primary_region, args.dr_region)]
        self.repoint_role = iam.role(
            f"{name}-repoint", trusted=iam.service("lambda.amazonaws.com"),
            description="Assumed by the Region switch repoint functions: change the private records, nothing else",
            inline_policy=iam.policy_document([
                iam.statement("route53:ChangeResourceRecordSets",
                              [pulumi.Output.concat("arn:aws:route53:::hostedzone/", z) for z in zone_ids],
                              # only the records the plan repoints (Route 53 condition key, lower case, no final dot)
                              condition={"ForAllValues:StringEquals": {ROUTE53_RECORD_NAMES_KEY: sorted(
                                  {r.record_name.rstrip(".").lower() for r in args.repoints})}},
                              sid="RepointRecords"),
                iam.statement("route53:GetChange", "arn:aws:route53:::change/*", sid="WaitForSync"),
                iam.statement(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], log_groups,
                              sid="Logs"),
            ]),
            inline_policy_name=f"{name}-repoint-policy", tags=args.tags, opts=home)
        out: dict[str, RepointFunctions] = {}
        for item in args.repoints:
            fn_name = names[item.workload]
            self.repoint_functions[item.workload] = {}
            for region in (args.primary_region, args.dr_region):
                self.repoint_functions[item.workload][region] = aws.lambda_.Function(
                    f"{name}-repoint-{item.workload}-{region}",
                    name=fn_name, runtime=LAMBDA_RUNTIME, role=self.repoint_role.arn,
                    handler=f"{REPOINT_SOURCE.stem}.handler",
                    code=pulumi.AssetArchive({REPOINT_SOURCE.name: pulumi.FileAsset(str(REPOINT_SOURCE))}),
                    timeout=min(LAMBDA_MAX_TIMEOUT_SECONDS, minutes(item.rto_seconds) * 60),
                    environment=aws.lambda_.FunctionEnvironmentArgs(
                        variables=RepointFunctions.environment(item, region)),
                    description=f"ARC Region switch: repoint {item.record_name} at the {region} writer",
                    tags=dict(args.tags),
                    opts=pulumi.ResourceOptions(parent=self, provider=args.providers[region]))
            out[item.workload] = RepointFunctions(
                names={region: fn_name for region in (args.primary_region, args.dr_region)},
                arns={region: fn.arn for region, fn in self.repoint_functions[item.workload].items()})
        return out

    def _execution_policy(self) -> pulumi.Output[str]:
        args = self._args
        statements = []
        instance_arns = [arn for p in args.promotions for arn in p.instance_arns.values()]
        if instance_arns:
            statements.append(iam.statement(["rds:DescribeDBInstances", "rds:PromoteReadReplica"], instance_arns,
                                            sid="PromoteReplicas"))
        group_arns = [arn for c in args.capacity for arn in c.group_arns.values()]
        if group_arns:
            statements.append(iam.statement("autoscaling:DescribeAutoScalingGroups", "*", sid="DescribeGroups"))
            statements.append(iam.statement("autoscaling:UpdateAutoScalingGroup", group_arns, sid="ScaleGroups"))
        function_arns = [fn.arn for fns in self.repoint_functions.values() for fn in fns.values()]
        if function_arns:
            statements.append(iam.statement(["lambda:GetFunction", "lambda:InvokeFunction"], function_arns,
                                            sid="RunRepointFunctions"))
        if args.traffic is not None:
            statements.append(iam.statement(
                ["route53:ListResourceRecordSets", "route53:GetHostedZone"],
                pulumi.Output.concat("arn:aws:route53:::hostedzone/", args.traffic.hosted_zone_id),
                sid="ReadRecords"))
            statements.append(iam.statement(["route53:GetHealthCheck", "route53:GetHealthCheckStatus"],
                                            "arn:aws:route53:::healthcheck/*", sid="ReadHealthChecks"))
        statements.append(iam.statement(["cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory"],
                                        list(args.alarm_arns.values()), sid="ReadApplicationHealthAlarms"))
        statements.append(iam.statement(
            "s3:PutObject", pulumi.Output.concat(args.report_bucket_arn, f"/{REPORT_PREFIX}/*"), sid="WriteReports"))
        if args.report_kms_key_arn is not None:
            statements.append(iam.statement(["kms:GenerateDataKey", "kms:Encrypt"], args.report_kms_key_arn,
                                            sid="EncryptReports"))
        return iam.policy_document(statements)
