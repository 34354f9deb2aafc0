"""Deploy a stack's inventory into a real AWS-compatible endpoint (LocalStack), without Pulumi.

The AWS-API calls are the lab's (`chaos.lab.deploy.Deployer`); this subclass replaces only the
lab-only steps: no emulation is wired (the endpoint replicates, checks health and answers DNS as it
does), health checks probe the inventory's real FQDN and port, and creation is attempted once per
service. Whatever the endpoint refuses (HTTP 501 "not included in your license plan", an internal
error, a timeout) is listed as "declared, not created" with the endpoint's own answer, and every
later workload of that service is skipped with the same reason: the API call's answer is trusted,
not the health endpoint's service list (LocalStack lists DynamoDB as available while its backend
cannot start here).

The result is the inventory with the endpoint's real ids (hosted zones, health checks, ARNs with
the endpoint's account) and a `deployed` block: endpoint, account, created, declared_not_created.
"""
from __future__ import annotations

import re
import uuid
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chaos.lab.deploy import Deployer, DeploySettings

ENDPOINT_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
# One attempt: a refused service must be reported, not retried for minutes. LocalStack's DynamoDB
# takes ~12 s to give up on its backend here; 30 s bounds a hanging service.
_CONFIG = Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 1, "mode": "standard"})
_OFFLINE_ACCOUNT = "123456789012"  # infra.offline's mock account, replaced by the endpoint's
_KIND_SERVICE = {"dynamodb": "dynamodb", "s3": "s3", "rds": "rds", "efs": "elasticfilesystem", "ec2": "ec2"}


def describe_refusal(error: Exception) -> str:
    """One line: what the endpoint answered when asked to create something."""
    if isinstance(error, ClientError):
        meta = error.response.get("ResponseMetadata", {})
        code = error.response.get("Error", {}).get("Code")
        message = (error.response.get("Error", {}).get("Message") or "").splitlines()[0][:140]
        return f"{error.operation_name} answered HTTP {meta.get('HTTPStatusCode')} {code}: {message}"
    return f"{type(error).__name__}: {str(error).splitlines()[0][:140]}"


class EndpointDeployer(Deployer):
    def __init__(self, endpoint: str, inventory: dict[str, Any]) -> None:
        super().__init__(parts=None, inventory=inventory, settings=DeploySettings())  # type: ignore[arg-type]
        self.endpoint = endpoint.rstrip("/")
        self.caller_reference = f"securecart-{uuid.uuid4().hex[:8]}"  # re-deploys must not collide
        self.summary.emulations = []
        self.summary.replication_lag_defaults = {}
        self.refused: dict[str, str] = {}  # service -> the endpoint's answer (asked once)
        self.not_created: list[dict[str, Any]] = []
        self._clients: dict[tuple[str, str], Any] = {}
        self.account = self._client("sts", "us-east-1").get_caller_identity()["Account"]

    def deploy_to_endpoint(self) -> dict[str, Any]:
        """Create what the endpoint offers; return the inventory with ids, account and `deployed`."""
        summary = self.deploy()
        inventory = dict(summary.inventory)
        inventory["deployed"] = {
            "endpoint": self.endpoint, "account": self.account,
            "created": summary.created,
            "declared_not_created": self.not_created + [
                {"workload": item["workload"], "resource": item["resource"], "reason": item["reason"]}
                for item in summary.declared_not_emulated]}
        return _replace_account(inventory, self.account)  # the created list names resources by ARN too

    # --- creation, once per service ---------------------------------------------------------------

    def _attempt(self, service: str, workload: str | None, resource: str, create: Callable[[], None]) -> None:
        if service in self.refused:
            self._not_created(workload, resource, f"{service} is not offered by the endpoint "
                                                  f"({self.refused[service]})")
            return
        try:
            create()
        except (ClientError, BotoCoreError) as error:
            self.refused[service] = describe_refusal(error)
            self._not_created(workload, resource, f"{service} is not offered by the endpoint "
                                                  f"({self.refused[service]})")

    def _not_created(self, workload: str | None, resource: str, reason: str) -> None:
        self.not_created.append({"workload": workload, "resource": resource, "reason": reason})

    def _deploy_kind(self, deploy: Callable[..., None], kind: str, name: str, workload: dict[str, Any],
                     stores: dict[str, Any]) -> None:
        self._attempt(_KIND_SERVICE[kind], name, f"{kind} stores of {name}",
                      lambda: deploy(name, workload, stores))

    def _deploy_backup(self, backup: dict[str, Any]) -> None:
        if backup:
            self._attempt("backup", None, "AWS Backup vaults and plans",
                          lambda: Deployer._deploy_backup(self, backup))
        for plan in backup.get("plans") or []:
            if not plan.get("rules"):
                self._not_created(None, f"backup-plan:{plan.get('name')}",
                                  "the inventory carries no rules for this plan; `pulumi up` creates it")

    def _deploy_monitoring(self, monitoring: dict[str, Any]) -> None:
        if monitoring:
            self._attempt("sns/cloudwatch", None, "alert topics and AWS Backup alarms",
                          lambda: Deployer._deploy_monitoring(self, monitoring))

    def _deploy_recovery_plan(self, plan: dict[str, Any], workloads: dict[str, Any]) -> None:
        """The lab runs the ARC Region switch plan itself; on an endpoint it is not created here."""
        self._not_created(None, f"region-switch-plan:{plan.get('name')}",
                          "`chaos deploy` does not create ARC Region switch plans; `pulumi up` does")

    # --- lab-only steps: nothing to wire on a real endpoint ---------------------------------------

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            session = boto3.Session(region_name=region, **ENDPOINT_CREDENTIALS)
            self._clients[key] = session.client(service, endpoint_url=self.endpoint, config=_CONFIG)
        return self._clients[key]

    def _refusal(self, probe: str) -> str:
        return "not created by `chaos deploy` (needs `pulumi up`); the endpoint was not asked"

    def _health_check_config(self, check: dict[str, Any], region: str) -> dict[str, Any]:
        config = {"Type": check.get("type") or "HTTP", "FullyQualifiedDomainName": str(check.get("fqdn")),
                  "Port": int(check.get("port") or 80),
                  "RequestInterval": int(check.get("interval_seconds") or 30),
                  "FailureThreshold": int(check.get("failure_threshold") or 3)}
        if config["Type"].startswith("HTTP"):
            config["ResourcePath"] = check.get("path") or "/health"
        return config

    def _wire_health_check(self, check_id: str, check: dict[str, Any], region: str) -> None:
        self.summary.health_checks.append({"id": check_id, "region": region, "fqdn": check.get("fqdn")})

    def _replication_role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/securecart-s3-replication"

    def _wire_s3_replication(self, name: str, source: str, region: str, target: str, target_region: str) -> None:
        self.summary.replication.append({"workload": name, "kind": "s3", "source": source,
                                         "source_region": region, "target": target,
                                         "target_region": target_region, "lag_seconds": None,
                                         "paused": False})

    def _links(self) -> list[dict[str, Any]]:
        return list(self.summary.replication)

    def _lab_data_plane(self) -> Any:
        return None  # the endpoint's RDS (if any) holds its own data

    def _lab_efs(self) -> Any:
        return None  # no EFS data plane on a real endpoint: replication is "declared, not created"

    def _lab_ebs(self) -> Any:
        return None

    def _wire_regions(self, inv: dict[str, Any]) -> None: ...
    def _wire_pitr(self, region: str, table: str) -> None: ...
    def _wire_dynamodb_replication(self, name: str, table: str, regions: list[str], strong: bool = False) -> None: ...
    def _wire_bucket(self, bucket: str, region: str) -> None: ...
    def _wire_zone_member(self, zone: str, instance_id: str) -> None: ...
    def _wire_record_region(self, set_identifier: str, region: str) -> None: ...

    def _wire_rds_data_plane(self, name: str, stores: dict[str, Any], identifier: str) -> None:
        """The endpoint's RDS serves its own data plane; nothing is started here."""


def _replace_account(value: Any, account: str) -> Any:
    """The offline evaluation's mock account in every ARN, replaced by the endpoint's."""
    if isinstance(value, dict):
        return {key: _replace_account(item, account) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_account(item, account) for item in value]
    if isinstance(value, str):
        return re.sub(rf"(arn:aws:[a-z0-9-]+:[a-z0-9-]*:){_OFFLINE_ACCOUNT}:", rf"\g<1>{account}:", value)
    return value
