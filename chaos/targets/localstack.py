"""A LocalStack endpoint (or a standalone `python -m chaos lab`) given by URL.

Endpoints per service come from `localstack_client` (its service map; `AWS_ENDPOINT_URL` in the
environment wins, as it does for localstack_client users). Clients are built from an explicit
`boto3.Session` per region: localstack_client's own `Session.client` goes through the process-wide
default boto3 session, which the harness never uses.

What it can inject depends on what answers at the endpoint:
- the Chaos API (`/_localstack/chaos/faults`, LocalStack Pro or the lab): region outages;
- the lab's `/_lab/*` API too (a standalone lab): also AZ, instance and replication-pause faults,
  and `reset` redeploys fresh state per scenario;
- neither: only accidental deletion, which needs nothing but the AWS APIs.
"""
from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlparse

import boto3
from localstack_client import config as localstack_config

from chaos.errors import ChaosError
from chaos.lab.auth import READY_FILE_ENV
from chaos.targets.base import (ACCIDENTAL_DELETION, AZ_OUTAGE, INSTANCE_FAILURE, REGION_OUTAGE,
                                REPLICATION_PAUSE, Deployment, Target)
from chaos.targets.chaos_api import ChaosApiFaults
from chaos.targets.inventory import MAX_INVENTORY_BYTES, parse_bounded_json

LOCALSTACK_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
PROBE_TIMEOUT_SECONDS = 3


# A standalone lab (`python -m chaos lab`) needs its token and AWS keys, which it wrote to its
# ready file (mode 0600). This names another ready file than the default one for the port.


def _http_status(url: str, headers: dict[str, str] | None = None) -> int | None:
    """HTTP status of a GET to `url`; None when nothing answers (refused, timeout, bad host)."""
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_SECONDS) as answer:
            answer.read()
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code
    except (urllib.error.URLError, OSError, ValueError):
        return None


class LocalStackTarget(ChaosApiFaults, Target):
    name = "localstack"

    def __init__(self, endpoint_url: str, inventory: dict[str, Any]) -> None:
        parsed = urlparse(endpoint_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ChaosError(f"--endpoint: {endpoint_url!r} is not a URL; pass e.g. "
                             "http://127.0.0.1:4566")
        super().__init__(endpoint_url=endpoint_url.rstrip("/"))
        self._inventory = inventory
        self._host = f"{parsed.hostname}:{parsed.port or (443 if parsed.scheme == 'https' else 80)}"
        self._port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.has_chaos_api = False
        self.has_lab_api = False
        self.lab_client: Any = None
        self._lab_credentials: Any = None  # chaos.lab.auth.LabCredentials of a standalone lab
        self.dns_via_record_sets = False  # TestDNSAnswer missing: chaos.probes.dns resolves otherwise
        self._unavailable: dict[str, str] = {}
        self._summary: dict[str, Any] = {}

    def file_service_url(self) -> str | None:
        return f"{self.endpoint_url}/_lab/files/" if self.has_file_service else None

    def file_service_headers(self) -> dict[str, str]:
        from chaos.lab.auth import TOKEN_HEADER

        token = self._lab_credentials.token if getattr(self, "_lab_credentials", None) else None
        return {TOKEN_HEADER: token} if token else {}

    def _new_session(self, region: str) -> boto3.Session:
        if self._lab_credentials is not None:
            return boto3.Session(region_name=region, **self._lab_credentials.boto3)
        return boto3.Session(region_name=region, **LOCALSTACK_CREDENTIALS)

    def _find_lab_credentials(self) -> Any:
        """A standalone lab's credentials from its ready file, if this user can read one for this
        endpoint (chaos.lab.auth.credentials_for)."""
        from chaos.lab.auth import credentials_for
        return credentials_for(self.endpoint_url, self._port, strict=True)

    def _service_endpoint(self, service: str) -> str | None:
        return localstack_config.get_service_endpoint(service, localstack_host=self._host) \
            or self.endpoint_url

    def discover(self) -> None:
        """Find out what answers at the endpoint; an unreachable one is a ChaosError."""
        from chaos.lab.auth import TOKEN_HEADER
        self._lab_credentials = self._find_lab_credentials()
        token = self._lab_credentials.token if self._lab_credentials else None
        headers = {TOKEN_HEADER: token} if token else {}
        chaos_status = _http_status(f"{self.endpoint_url}/_localstack/chaos/faults", headers)
        if chaos_status is None:
            raise ChaosError(f"--endpoint: nothing answers at {self.endpoint_url}; start LocalStack "
                             "or `python -m chaos lab` there, or fix the URL")
        if chaos_status == 401:
            raise ChaosError(f"--endpoint: {self.endpoint_url} is a lab that needs its token; run as the "
                             f"user who started it, or set {READY_FILE_ENV} to its --ready-file")
        self.has_chaos_api = chaos_status == 200
        self.has_lab_api = _http_status(f"{self.endpoint_url}/_lab/health", headers) == 200
        self.has_file_service = self.has_lab_api  # a standalone lab serves EFS/EBS data too
        with self._lock:  # sessions made before discovery carried LocalStack's credentials
            self._sessions.clear()
            self._clients.clear()
        if self.has_chaos_api:
            from chaos.lab.process import LabClient  # speaks the Chaos API (+ /_lab when there)
            self.lab_client = LabClient(self.endpoint_url, token=token)

    @property
    def capabilities(self) -> frozenset[str]:
        found = {ACCIDENTAL_DELETION}
        if self.has_chaos_api:
            found.add(REGION_OUTAGE)
        if self.has_lab_api:
            found |= {AZ_OUTAGE, INSTANCE_FAILURE, REPLICATION_PAUSE}
        return frozenset(found)

    def prepare(self, inventory: dict[str, Any]) -> Deployment:
        self.discover()
        self._inventory = inventory
        summary: dict[str, Any] = {"chaos_api": self.has_chaos_api, "lab_api": self.has_lab_api}
        if not self.has_lab_api:  # a real endpoint: find out what it holds (the lab deploys it all)
            summary.update(self._check(inventory))
        self._summary = summary
        return Deployment(inventory=inventory, summary=summary)

    def _check(self, inventory: dict[str, Any]) -> dict[str, Any]:
        """Ask the endpoint what it holds; the summary's lists feed report.md ("declared, not created")."""
        from chaos.targets.endpoint_checks import check_endpoint
        from chaos.targets.inventory import parse_inventory

        findings = check_endpoint(self, parse_inventory(inventory, "the inventory"), inventory)
        self._unavailable = findings.unavailable
        self.dns_via_record_sets = findings.dns_via_record_sets
        deployed = inventory.get("deployed") or {}
        missing = [dict(item) for item in deployed.get("declared_not_created") or []]
        listed = {item.get("workload") for item in missing}
        missing += [{"workload": name, "resource": f"stores of {name}", "reason": reason}
                    for name, reason in findings.unavailable.items() if name not in listed]
        return {"declared_not_emulated": missing, "not_created": True, "notes": findings.notes,
                "replication": findings.replication, "account": deployed.get("account")}

    def workload_unavailable(self, workload: str) -> str | None:
        return self._unavailable.get(workload)

    def reset(self) -> Deployment:
        if self.has_lab_api:
            summary = self.lab_client.reset()
            inventory = summary.get("inventory") or self._inventory
            return Deployment(inventory=inventory,
                              summary={k: v for k, v in summary.items() if k != "inventory"})
        # LocalStack keeps its state: scenarios stay apart by their run/scenario namespaces, and
        # what the endpoint offers was found once, in `prepare`.
        return Deployment(inventory=self._inventory, summary=self._summary)

    def close(self) -> None:
        """Nothing started here. Faults removed their own rules; other users' rules on a shared
        endpoint are not ours to clear."""


def load_inventory_file(path: str) -> dict[str, Any]:
    """Read `pulumi stack output inventory --json` (or the lab's --inventory-out) from `path`."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_INVENTORY_BYTES + 1)  # never more than the bound into memory
    except FileNotFoundError:
        raise ChaosError(f"--inventory: {path} does not exist; write it with "
                         "`pulumi stack output inventory --json > FILE`") from None
    except OSError as err:
        raise ChaosError(f"--inventory: {path} cannot be read ({err.strerror}); pass a readable file") from None
    inventory = parse_bounded_json(data, f"--inventory: {path}")
    if not isinstance(inventory, dict) or "workloads" not in inventory:
        raise ChaosError(f"--inventory: {path} has no `workloads`; pass the `inventory` stack "
                         "output, not the whole stack")
    return inventory
