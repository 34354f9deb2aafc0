"""The Chaos API's rule store: LocalStack-compatible fault rules, extended with zone, resource, expiry.

A rule's keys are all optional and all given keys must match the request. A rule with only a
`region` is a region outage (see ARCHITECTURE.md): the lab core reacts to that scope beyond API
errors (health endpoints, replication, PostgreSQL), through `FaultStore.on_change`.

Every rule expires (the lab default TTL when none is given) so a crashed harness cannot leave the
lab broken; expired rules are dropped lazily on each look-up and by the lab's janitor thread.
"""
from __future__ import annotations

import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from chaos.lab.awsrequest import AwsRequest

DEFAULT_TTL_SECONDS = 600.0
_RULE_KEYS = {"service", "region", "operation", "probability", "error", "zone", "resource",
              "expires_at", "ttl_seconds"}


class RuleError(ValueError):
    """A rule in a Chaos API body is malformed; the message names the key."""


@dataclass(frozen=True)
class FaultRule:
    service: str | None = None
    region: str | None = None
    operation: str | None = None
    probability: float = 1.0
    status_code: int = 503
    error_code: str = "ServiceUnavailable"
    zone: str | None = None
    resource: str | None = None
    expires_at: float = 0.0

    @classmethod
    def from_json(cls, raw: Any, now: float) -> "FaultRule":
        if not isinstance(raw, dict):
            raise RuleError("rule: each rule must be a JSON object")
        unknown = set(raw) - _RULE_KEYS
        if unknown:
            raise RuleError(f"rule.{sorted(unknown)[0]}: unknown key; use {sorted(_RULE_KEYS)}")
        error = raw.get("error") or {}
        if not isinstance(error, dict):
            raise RuleError('rule.error: must be an object like {"statusCode": 503, "code": "X"}')
        probability = float(raw.get("probability", 1.0))
        if not 0.0 <= probability <= 1.0:
            raise RuleError("rule.probability: must be between 0 and 1")
        if raw.get("expires_at") is not None:
            expires_at = float(raw["expires_at"])
        else:
            expires_at = now + float(raw.get("ttl_seconds") or DEFAULT_TTL_SECONDS)
        return cls(
            service=raw.get("service") or None,
            region=raw.get("region") or None,
            operation=raw.get("operation") or None,
            probability=probability,
            status_code=int(error.get("statusCode", 503)),
            error_code=str(error.get("code", "ServiceUnavailable")),
            zone=raw.get("zone") or None,
            resource=raw.get("resource") or None,
            expires_at=expires_at,
        )

    def to_json(self) -> dict[str, Any]:
        return {"service": self.service, "region": self.region, "operation": self.operation,
                "probability": self.probability,
                "error": {"statusCode": self.status_code, "code": self.error_code},
                "zone": self.zone, "resource": self.resource, "expires_at": self.expires_at}

    @property
    def identity(self) -> tuple:
        """What DELETE compares: every key but the expiry."""
        return (self.service, self.region, self.operation, self.probability, self.status_code,
                self.error_code, self.zone, self.resource)

    @property
    def is_region_outage(self) -> bool:
        return bool(self.region) and not (self.service or self.operation or self.zone or self.resource)


@dataclass(frozen=True)
class OutageScopes:
    """What the active rules take down beyond API errors; the lab core diffs successive scopes."""

    regions: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()


@dataclass
class RequestContext:
    """What the rule matcher needs to know about the deployed resources (filled in by deploy)."""

    # An S3 bucket lives in one region whatever region the client signs for.
    bucket_regions: dict[str, str] = field(default_factory=dict)
    # Zone -> identifiers of zonal resources there whose API calls fail with the zone.
    zone_members: dict[str, list[str]] = field(default_factory=dict)

    def regions_of(self, request: AwsRequest) -> set[str]:
        regions = {request.region}
        if request.service == "s3":
            bucket_region = self.bucket_regions.get(request.s3_bucket_and_key[0])
            if bucket_region:
                regions.add(bucket_region)
        return regions


class FaultStore:
    """Thread-safe rule list. `match` is the hot path: one boolean check when no rule exists."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._listeners: list[Callable[[OutageScopes], None]] = []
        self._scopes = OutageScopes()
        self.latency_ms: float = 0.0

    def on_change(self, listener: Callable[[OutageScopes], None]) -> None:
        self._listeners.append(listener)

    # --- Chaos API verbs ---------------------------------------------------------------------------

    def rules(self) -> list[FaultRule]:
        self.purge_expired()
        with self._lock:
            return list(self._rules)

    def replace(self, raw_rules: Iterable[Any]) -> list[FaultRule]:
        parsed = self._parse(raw_rules)
        with self._lock:
            self._rules = parsed
        self._notify()
        return self.rules()

    def add(self, raw_rules: Iterable[Any]) -> list[FaultRule]:
        parsed = self._parse(raw_rules)
        with self._lock:
            self._rules.extend(parsed)
        self._notify()
        return self.rules()

    def remove(self, raw_rules: Iterable[Any]) -> list[FaultRule]:
        gone = {rule.identity for rule in self._parse(raw_rules)}
        with self._lock:
            self._rules = [rule for rule in self._rules if rule.identity not in gone]
        self._notify()
        return self.rules()

    def clear(self) -> None:
        with self._lock:
            self._rules = []
        self.latency_ms = 0.0
        self._notify()

    def purge_expired(self) -> None:
        now = self._clock()
        with self._lock:
            if not any(rule.expires_at <= now for rule in self._rules):
                return
            self._rules = [rule for rule in self._rules if rule.expires_at > now]
        self._notify()

    # --- matching ------------------------------------------------------------------------------------

    def match(self, request: AwsRequest, context: RequestContext) -> FaultRule | None:
        if not self._rules:
            return None
        now = self._clock()
        for rule in list(self._rules):
            if rule.expires_at <= now:
                continue
            if self._matches(rule, request, context) and (
                    rule.probability >= 1.0 or random.random() < rule.probability):
                return rule
        return None

    @staticmethod
    def _matches(rule: FaultRule, request: AwsRequest, context: RequestContext) -> bool:
        if rule.is_region_outage:
            return not request.is_global_service and rule.region in context.regions_of(request)
        if rule.service and rule.service != request.service:
            return False
        if rule.region and rule.region not in context.regions_of(request):
            return False
        if rule.operation and rule.operation != request.operation:
            return False
        if rule.resource and not request.mentions(rule.resource):
            return False
        if rule.resource and request.service == "rds" and not (rule.service or rule.operation):
            # A DB instance failure is its data plane's (the PostgreSQL process crashes); the RDS
            # control plane keeps answering, as on AWS, so a runbook can reboot it with failover.
            return False
        if rule.zone and not any(request.mentions(member)
                                 for member in context.zone_members.get(rule.zone, [])):
            return False
        return True

    # --- internals -----------------------------------------------------------------------------------

    def _parse(self, raw_rules: Iterable[Any]) -> list[FaultRule]:
        if not isinstance(raw_rules, list):
            raise RuleError("body: must be a JSON list of rules")
        now = self._clock()
        return [FaultRule.from_json(raw, now) for raw in raw_rules]

    def _notify(self) -> None:
        with self._lock:
            rules = list(self._rules)
        scopes = OutageScopes(
            regions=frozenset(r.region for r in rules if r.is_region_outage and r.region),
            zones=frozenset(r.zone for r in rules if r.zone and not (r.service or r.operation)),
            resources=frozenset(r.resource for r in rules if r.resource and not (r.service or r.operation)),
        )
        if scopes == self._scopes:
            return
        self._scopes = scopes
        for listener in self._listeners:
            listener(scopes)

    @property
    def scopes(self) -> OutageScopes:
        return self._scopes


# --- error replies in each protocol's shape, so botocore raises a ClientError with the right code ---

def error_response(request: AwsRequest, status: int, code: str,
                   message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id), ("x-amz-request-id", request_id)]
    protocol = request.protocol
    if protocol in ("json", "rest-json"):
        prefix = "com.amazonaws.dynamodb.v20120810#" if request.service == "dynamodb" else ""
        body = json.dumps({"__type": prefix + code, "message": message}).encode()
        headers += [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-ErrorType", code)]
    elif protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
                f"</Errors><RequestID>{request_id}</RequestID></Response>").encode()
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "query" or request.service == "route53":
        body = (f"<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code>"
                f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
                f"</ErrorResponse>").encode()
        headers.append(("Content-Type", "text/xml"))
    else:  # S3's REST-XML
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>"
                f"<Message>{message}</Message><RequestId>{request_id}</RequestId></Error>").encode()
        headers.append(("Content-Type", "application/xml"))
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body
