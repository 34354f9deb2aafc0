"""A real AWS stack (staging), driven from its `inventory` stack output.

Faults are the stack's own FIS experiment templates (`fis.templates` and each workload's
`fis_templates`), started with `StartExperiment` and stopped with `StopExperiment`; the templates
carry the stack's stop conditions (CloudWatch alarms) and the chaos runner's least-privilege role.
A whole-region outage has no FIS action, so this target cannot inject one. A stack that did not
opt in (`chaos_enabled: false`) is refused before anything is touched.

Credentials come from the usual chain (environment, profile, SSO) through an explicit
`boto3.Session` per region, never the default session; `prepare` checks them first (STS
`GetCallerIdentity` must name the account in the stack's ARNs). `endpoint_url` points every client
(STS and FIS included) at an AWS-compatible endpoint instead of AWS: the tests drive this target
against a moto server, which implements FIS experiments and STS.
"""
from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

from chaos.errors import ChaosError
from chaos.targets.base import (ACCIDENTAL_DELETION, AZ_OUTAGE, INSTANCE_FAILURE,
                                REPLICATION_PAUSE, Deployment, FaultSpec, Target)

# Which template names play which fault: a template key containing one of these words.
FIS_ACTION_WORDS: dict[str, tuple[str, ...]] = {
    "rds-reboot": ("reboot",),
    "network-disruption": ("network", "az"),
    "replication-pause": ("pause",),
}
_CAPABILITY_OF_ACTION = {"rds-reboot": INSTANCE_FAILURE, "network-disruption": AZ_OUTAGE,
                         "replication-pause": REPLICATION_PAUSE}
STORE_KINDS = ("rds", "dynamodb", "s3", "ec2", "efs")  # template-name prefixes (infra gameday.py)
EXPERIMENT_START_BOUND_SECONDS = 120.0
EXPERIMENT_POLL_SECONDS = 2.0  # FIS takes seconds to initiate; polling faster only costs API calls
_FINISHED_STATES = ("completed", "stopped", "failed", "cancelled")


class AwsTarget(Target):
    name = "aws"

    def __init__(self, inventory: dict[str, Any], *, profile: str | None = None,
                 endpoint_url: str | None = None) -> None:
        """`endpoint_url`: None for AWS itself; else an AWS-compatible endpoint (a moto server in
        the tests) that every client of this target talks to."""
        super().__init__(endpoint_url=endpoint_url)
        if not inventory.get("chaos_enabled"):
            raise ChaosError(f"--inventory: stack {inventory.get('stack')!r} has chaos_enabled: "
                             "false; set securecart-dr:chaos.enabled true in its stack config and "
                             "`pulumi up` before running a game day against it")
        self._inventory = inventory
        self._profile = profile

    def _new_session(self, region: str) -> boto3.Session:
        return boto3.Session(region_name=region, profile_name=self._profile)

    @property
    def capabilities(self) -> frozenset[str]:
        found = {ACCIDENTAL_DELETION}
        names = list(((self._inventory.get("fis") or {}).get("templates") or {}))
        for workload in (self._inventory.get("workloads") or {}).values():
            names += list(workload.get("fis_templates") or {})
        for action, words in FIS_ACTION_WORDS.items():
            if any(word in name.lower() for name in names for word in words):
                found.add(_CAPABILITY_OF_ACTION[action])
        return frozenset(found)

    def template_for(self, action: str, workload: str | None) -> str:
        """The FIS template id playing `action`: the workload's own templates first, then the
        stack's, skipping a stack template made for another kind of store (a DynamoDB pause
        template must not stand in for an RDS workload's)."""
        words = FIS_ACTION_WORDS[action]
        own: dict[str, str] = {}
        kind = None
        if workload is not None:
            own = self._inventory["workloads"][workload].get("fis_templates") or {}
            kind = self._inventory["workloads"][workload].get("kind")
        stack = (self._inventory.get("fis") or {}).get("templates") or {}
        for name, template_id in [*own.items(), *stack.items()]:
            lowered = name.lower()
            made_for = next((k for k in STORE_KINDS if lowered.startswith(k + "-")), None)
            if made_for is not None and kind is not None and made_for != kind:
                continue
            if any(word in lowered for word in words):
                return template_id
        raise ChaosError(f"inventory.fis.templates: no template for {action} "
                         f"(workload {workload}); enable the game-day FIS templates in the stack")

    def _fis(self) -> Any:
        return self.client("fis", self._inventory["primary_region"])

    def apply_fault(self, spec: FaultSpec) -> dict[str, Any]:
        if spec.fis_action is None:
            raise ChaosError(f"--scenario: {spec.fault} cannot be played on AWS (no FIS action "
                             "takes a whole region down); run it on the lab or LocalStack")
        template_id = self.template_for(spec.fis_action, spec.workload)
        fis = self._fis()
        experiment = fis.start_experiment(experimentTemplateId=template_id,
                                          tags={"securecart-chaos": spec.fault})["experiment"]
        experiment_id = experiment["id"]

        def state() -> str:
            return fis.get_experiment(id=experiment_id)["experiment"]["state"]["status"]

        status = Retrying(stop=stop_after_delay(EXPERIMENT_START_BOUND_SECONDS),
                          wait=wait_fixed(EXPERIMENT_POLL_SECONDS),
                          retry=retry_if_result(lambda s: s in ("pending", "initiating")),
                          retry_error_callback=lambda rs: rs.outcome.result())(state)
        if status != "running":
            # The caller gets no handle to revert: an experiment still pending/initiating past
            # the bound must not start running later with nobody left to stop it.
            if status not in _FINISHED_STATES:
                fis.stop_experiment(id=experiment_id)
            raise RuntimeError(f"FIS experiment {experiment_id} ({template_id}) is {status}, "
                               "not running: check its stop conditions and the chaos role")
        # The region too: `chaos recover` stops a still-running experiment from the journal alone.
        return {"experiment_id": experiment_id, "template_id": template_id,
                "region": self._inventory["primary_region"]}

    def remove_fault(self, handle: dict[str, Any]) -> None:
        experiment_id = handle.get("experiment_id")
        if not experiment_id:
            return
        fis = self._fis()
        status = fis.get_experiment(id=experiment_id)["experiment"]["state"]["status"]
        if status not in _FINISHED_STATES:
            fis.stop_experiment(id=experiment_id)

    def prepare(self, inventory: dict[str, Any]) -> Deployment:
        self._check_credentials()
        return Deployment(inventory=self._inventory)

    def _check_credentials(self) -> None:
        """Fail before any fault with one line when the credentials are missing or belong to
        another account than the stack's (its ARNs name the account)."""
        region = self._inventory["primary_region"]
        try:
            account = self.client("sts", region).get_caller_identity()["Account"]
        except (BotoCoreError, ClientError) as err:
            raise ChaosError(f"aws credentials: {type(err).__name__}: {err}; set AWS_PROFILE "
                             "(or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) for the stack's "
                             "account") from None
        stack_accounts = {arn.split(":")[4] for arn in _arns(self._inventory)
                          if arn.count(":") >= 5}
        stack_accounts.discard("")
        if stack_accounts and account not in stack_accounts:
            raise ChaosError(f"aws credentials: account {account} is not the stack's "
                             f"({', '.join(sorted(stack_accounts))}); switch AWS_PROFILE")

    def reset(self) -> Deployment:
        # A real stack is not redeployed between scenarios; run/scenario namespaces keep the
        # canaries' records apart.
        return Deployment(inventory=self._inventory)

    def close(self) -> None:
        """Nothing started here; experiments are stopped by their faults' revert."""


def _arns(value: Any) -> list[str]:
    """Every ARN string anywhere in the inventory."""
    if isinstance(value, str):
        return [value] if value.startswith("arn:aws") else []
    if isinstance(value, dict):
        return [arn for item in value.values() for arn in _arns(item)]
    if isinstance(value, list):
        return [arn for item in value for arn in _arns(item)]
    return []
