"""The Chaos API's rule store: LocalStack-compatible fault rules, extended with zone, resource, expiry.

A rule's keys are all optional and all given keys must match the request. A rule with only a
`region` is a region outage (see ARCHITECTURE.md): the lab core reacts to that scope beyond API
errors (health endpoints, replication, PostgreSQL), through `FaultStore.on_change`.

Every rule expires (the lab default TTL when none is given) so a crashed harness cannot leave the
lab broken; expired rules are dropped lazily on each look-up and by the lab's janitor thread.
"""
from __future__ import annotations

import functools
import json
import math
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import botocore.session

from chaos.lab.awsrequest import AwsRequest

DEFAULT_TTL_SECONDS = 600.0
# Bounds of the Chaos API (docs/ARCHITECTURE.md). A rule is a safety net around one fault of one
# game day: the longest scenario budget is minutes, so a day is generous and still "expires".
MAX_TTL_SECONDS = 86_400.0
# More latency would make every call time out instead of answering late (botocore's default read
# timeout is 60 s).
MAX_LATENCY_MS = 60_000.0
MAX_RULES_PER_REQUEST = 100
MAX_RULES_TOTAL = 1_000
MAX_BODY_BYTES = 256 * 1024
_RULE_KEYS = {"service", "region", "operation", "probability", "error", "zone", "resource",
              "expires_at", "ttl_seconds"}
# An operation name. LocalStack's own schema refuses digits ("Put42Items", in its Chaos API tests);
# the lab allows them and refuses anything else that is not a letter.
_OPERATION = re.compile(r"[A-Z][A-Za-z0-9]{0,127}")
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,127}")
_ZONE = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9][a-z]")  # an AZ name: its region plus a letter
_RESOURCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/@+=-]{0,255}")


class RuleError(ValueError):
    """A rule in a Chaos API body is malformed; the message names the key."""


@functools.lru_cache(maxsize=1)
def known_services_and_regions() -> tuple[frozenset[str], frozenset[str]]:
    """Service names and SigV4 scopes (endpoint prefixes, e.g. `monitoring`, `elasticfilesystem`)
    and region names botocore knows: a rule naming anything else could never match."""
    session = botocore.session.get_session()
    endpoints = session.get_data("endpoints")
    services = set(session.get_available_services())
    regions: set[str] = set()
    for partition in endpoints["partitions"]:
        services |= set(partition["services"])
        regions |= set(partition["regions"])
    return frozenset(services), frozenset(regions)


def _finite(raw: dict[str, Any], key: str, default: float, where: str) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RuleError(f"{where}.{key}: {value!r} is not a finite number")
    return float(value)


def _name(raw: dict[str, Any], key: str, where: str, pattern: re.Pattern[str] | None = None,
          known: frozenset[str] | None = None) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RuleError(f"{where}.{key}: must be a string, not {type(value).__name__}")
    if known is not None and value not in known:
        raise RuleError(f"{where}.{key}: unknown {key} {value[:64]!r}; use a name botocore knows "
                        f"(e.g. {'us-east-1' if key == 'region' else 'dynamodb'})")
    if pattern is not None and not pattern.fullmatch(value):
        raise RuleError(f"{where}.{key}: {value[:64]!r} does not match {pattern.pattern}")
    return value


def validate_latency(value: Any) -> float:
    """The `effects.latency` value in ms: finite, 0 <= latency <= MAX_LATENCY_MS."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= MAX_LATENCY_MS:
        raise RuleError(f"effects.latency: {value!r} must be a number of milliseconds between 0 and "
                        f"{MAX_LATENCY_MS:g}")
    return float(value)


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
    def from_json(cls, raw: Any, now: float, where: str = "rule", *, check_expiry: bool = True) -> "FaultRule":
        """Parse one rule; RuleError (one line naming `where.key`) on anything it cannot honour.

        `check_expiry=False` for DELETE: removing a rule that already expired stays a no-op."""
        if not isinstance(raw, dict):
            raise RuleError(f"{where}: each rule must be a JSON object")
        unknown = set(raw) - _RULE_KEYS
        if unknown:
            raise RuleError(f"{where}.{sorted(unknown)[0]}: unknown key; use {sorted(_RULE_KEYS)}")
        services, regions = known_services_and_regions()
        error = raw.get("error") or {}
        if not isinstance(error, dict) or set(error) - {"statusCode", "code"}:
            raise RuleError(f'{where}.error: must be an object like {{"statusCode": 503, "code": "X"}}')
        probability = _finite(raw, "probability", 1.0, where)
        if not 0.0 <= probability <= 1.0:
            raise RuleError(f"{where}.probability: {probability:g} must be between 0 and 1")
        status = error.get("statusCode", 503)
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise RuleError(f"{where}.error.statusCode: {status!r} must be an HTTP error code (400-599)")
        code = _name(error, "code", f"{where}.error", _ERROR_CODE) or "ServiceUnavailable"
        zone = _name(raw, "zone", where, _ZONE)
        if zone is not None and zone[:-1] not in regions:
            raise RuleError(f"{where}.zone: {zone!r} is not in a region botocore knows; use e.g. us-east-1a")
        if raw.get("expires_at") is not None and raw.get("ttl_seconds") is not None:
            raise RuleError(f"{where}: give expires_at or ttl_seconds, not both")
        if raw.get("expires_at") is not None:
            expires_at = _finite(raw, "expires_at", 0.0, where)
            ttl = expires_at - now
            key = "expires_at"
        else:
            ttl = _finite(raw, "ttl_seconds", DEFAULT_TTL_SECONDS, where)
            expires_at = now + ttl
            key = "ttl_seconds"
        if check_expiry and not 0.0 < ttl <= MAX_TTL_SECONDS:
            raise RuleError(f"{where}.{key}: the rule must expire within (0, {MAX_TTL_SECONDS:g}] seconds "
                            f"from now (it would in {ttl:.6g} s)")
        return cls(
            service=_name(raw, "service", where, known=services),
            region=_name(raw, "region", where, known=regions),
            operation=_name(raw, "operation", where, _OPERATION),
            probability=probability,
            status_code=status,
            error_code=code,
            zone=zone,
            resource=_name(raw, "resource", where, _RESOURCE),
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
        # Load botocore's service and region names now (~30 ms): the first rule is a fault being
        # injected, and time spent between the harness's fault timestamp and the rule taking
        # effect would shrink the RPO it measures.
        known_services_and_regions()
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
            self._check_total(len(parsed))
            self._rules = parsed
        self._notify()
        return self.rules()

    def add(self, raw_rules: Iterable[Any]) -> list[FaultRule]:
        parsed = self._parse(raw_rules)
        with self._lock:
            live = [rule for rule in self._rules if rule.expires_at > self._clock()]
            self._check_total(len(live) + len(parsed))
            self._rules = live + parsed
        self._notify()
        return self.rules()

    def remove(self, raw_rules: Iterable[Any]) -> list[FaultRule]:
        gone = {rule.identity for rule in self._parse(raw_rules, check_expiry=False)}
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

    def _parse(self, raw_rules: Iterable[Any], *, check_expiry: bool = True) -> list[FaultRule]:
        if not isinstance(raw_rules, list):
            raise RuleError("body: must be a JSON list of rules")
        if len(raw_rules) > MAX_RULES_PER_REQUEST:
            raise RuleError(f"body: {len(raw_rules)} rules in one request; send at most "
                            f"{MAX_RULES_PER_REQUEST}")
        now = self._clock()
        return [FaultRule.from_json(raw, now, f"rules[{i}]", check_expiry=check_expiry)
                for i, raw in enumerate(raw_rules)]

    @staticmethod
    def _check_total(count: int) -> None:
        if count > MAX_RULES_TOTAL:
            raise RuleError(f"body: the lab would hold {count} rules; at most {MAX_RULES_TOTAL} are "
                            "active at once (DELETE or wait for expiry first)")

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
