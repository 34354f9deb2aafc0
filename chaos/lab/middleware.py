"""`LabMiddleware`: the WSGI layer in front of moto.

Per request, first who may make it (chaos.lab.auth): the lab token on `/_lab/*`,
`/_localstack/chaos/*` and `/moto-api/*`, a SigV4 signature with the lab's keys on everything else.
Then, per AWS request, in order: the Chaos API's latency effect, the fault rules (an error in the
protocol's shape instead of moto's answer), then the few operations the lab answers itself or must
observe (Route 53 health answers, DynamoDB PITR, S3 writes to replicated buckets, RDS calls that
reach PostgreSQL). Everything else goes straight to moto: the hot path is the signature check
(one HMAC chain), one regex on the `Authorization` header, one empty-list check and one dict look-up.
"""
from __future__ import annotations

import json
import logging
import time
import zlib
from typing import Any, Callable, Iterable
from xml.etree import ElementTree

from chaos.lab import motostate, rds
from chaos.lab.auth import TOKEN_HEADER
from chaos.lab.awsrequest import AwsRequest
from chaos.lab.backup import rds_snapshots
from chaos.lab.control import ControlApi
from chaos.lab.core import Lab
from chaos.lab.deploy import LAB_USER_AGENT
from chaos.lab.ebs import EC2_DATA_OPERATIONS
from chaos.lab.filestore import PREFIX as FILES_PREFIX
from chaos.lab.faults import error_response
from chaos.lab.pitr import RestoreRefused
from chaos.lab.region_switch import RegionSwitchRefused
from chaos.lab.route53 import Route53Refused

log = logging.getLogger(__name__)
Reply = tuple[int, list[tuple[str, str]], bytes]
_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found",
            500: "Internal Server Error", 503: "Service Unavailable"}
# Paths that need the lab token (docs/lab.md, Threat model); the rest is AWS and needs SigV4.
_TOKEN_PATHS = ("/_lab/", "/_localstack/", "/moto-api")
_PUBLIC_PATHS = frozenset({"/_localstack/health"})  # LocalStack's liveness probe: no state in it
_DRAIN_LIMIT_BYTES = 1024 * 1024
REGION_SWITCH_OPERATIONS = ("StartPlanExecution", "GetPlanExecution", "ListPlanExecutionEvents",
                            "ApprovePlanExecutionStep", "CancelPlanExecution", "GetPlan")
_S3_REPLICATED_OPERATIONS = frozenset({"PutObject", "CopyObject", "CompleteMultipartUpload",
                                       "DeleteObject", "DeleteObjects"})


class LabMiddleware:
    def __init__(self, moto_app: Callable, lab: Lab):
        self.moto_app = moto_app
        self.lab = lab
        self.control = ControlApi(lab)
        self._intercepted: dict[tuple[str, str], Callable[[AwsRequest], Reply]] = {
            ("route53", "GetHealthCheckStatus"): self._health_check_status,
            ("route53", "TestDNSAnswer"): self._test_dns_answer,
            ("dynamodb", "RestoreTableToPointInTime"): self._restore_table,
            ("dynamodb", "DescribeTable"): self._describe_table,
            ("dynamodb", "UpdateContinuousBackups"): self._update_continuous_backups,
            **{("s3", op): self._s3_write for op in _S3_REPLICATED_OPERATIONS},
            **{("rds", op): self._rds_call for op in rds.ENDPOINT_OPERATIONS},
            **{("arc-region-switch", op): self._region_switch for op in REGION_SWITCH_OPERATIONS},
            **{("ec2", op): self._ec2_data for op in EC2_DATA_OPERATIONS},
            # The backup lab (chaos/lab/backup): RDS snapshots with data, archived S3 objects.
            **{("rds", op): self._rds_snapshot_call for op in rds_snapshots.OPERATIONS},
            **{("s3", op): self._s3_archive_call for op in ("GetObject", "HeadObject", "RestoreObject")},
        }
        # REST-JSON services whose operation the request line alone does not name: routed by service.
        self._by_service: dict[str, Callable[[AwsRequest], Reply]] = {
            "backup": lambda request: self.lab.backup.backup_call(request, self._moto),
            "efs": self._efs_call, "elasticfilesystem": self._efs_call}

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(FILES_PREFIX):  # the EFS/EBS data plane (chaos/lab/filestore.py)
            if not self.lab.credentials.token_ok(environ):  # the canary's data: the token's too
                return _send(start_response, _refused(environ, _json(401, {
                    "error": f"{path}: missing or wrong {TOKEN_HEADER} header; the token is in the "
                             "lab's ready file (docs/lab.md, Threat model)"})))
            return self.lab.shares(environ, start_response)
        if path.startswith(_TOKEN_PATHS) and path not in _PUBLIC_PATHS:
            if not self.lab.credentials.token_ok(environ):
                return _send(start_response, _refused(environ, _json(401, {
                    "error": f"{path}: missing or wrong {TOKEN_HEADER} header; the token is in the "
                             "lab's ready file (docs/lab.md, Threat model)"})))
            if path.startswith("/moto-api"):  # moto's own state dump and reset: the token's too
                return self.moto_app(environ, start_response)
        if path.startswith("/_lab/") or path.startswith("/_localstack/"):
            return self.control(environ, start_response)
        request = AwsRequest.from_environ(environ)
        # S3 signs its payload hash in a header; other services sign the body itself, which is
        # read only once the key id is the lab's (no buffering for strangers).
        problem = self.lab.credentials.signature_problem(
            environ, lambda: b"" if "HTTP_X_AMZ_CONTENT_SHA256" in environ else request.body)
        if problem is not None:
            if not request.is_aws:
                return _send(start_response, _refused(environ, _json(403, {"error": f"{path}: {problem}"})))
            code = "AuthFailure" if request.service == "ec2" else "InvalidClientTokenId" \
                if "access key id" in problem else "SignatureDoesNotMatch"
            return _send(start_response, _refused(environ, error_response(request, 403, code, f"lab: {problem}")))
        if LAB_USER_AGENT not in environ.get("HTTP_USER_AGENT", ""):
            if self.lab.faults.latency_ms:
                time.sleep(self.lab.faults.latency_ms / 1000.0)
            rule = self.lab.faults.match(request, self.lab.context)
            if rule is not None:
                request.body  # noqa: B018 - consume it, or a kept-alive connection reads it as the next request
                message = f"lab fault rule: {request.service} {request.operation or request.method} in {request.region}"
                return _send(start_response, error_response(request, rule.status_code, rule.error_code, message))
        handler = self._intercepted.get((request.service, request.operation)) or self._by_service.get(request.service)
        if handler is None:
            return self.moto_app(environ, start_response)
        return _send(start_response, handler(request))

    # --- calling moto and keeping its answer -------------------------------------------------------------

    def _moto(self, request: AwsRequest) -> Reply:
        request.body  # noqa: B018 - buffer it first: handlers may parse it after moto has read it
        captured: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            captured["status"], captured["headers"] = int(status.split(" ", 1)[0]), headers
            return lambda data: None

        chunks = self.moto_app(request.environ, start)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return captured["status"], list(captured["headers"]), body

    # --- Route 53 ------------------------------------------------------------------------------------------

    def _health_check_status(self, request: AwsRequest) -> Reply:
        check_id = request.route53_id()
        if self.lab.health.check(check_id) is None:
            return self._moto(request)  # not a check the lab evaluates: moto's answer
        return _xml(200, self.lab.route53.health_check_status_xml(check_id))

    def _test_dns_answer(self, request: AwsRequest) -> Reply:
        q = {k: v[0] for k, v in request.query.items()}
        try:
            return _xml(200, self.lab.route53.test_dns_answer_xml(
                q.get("hostedzoneid", ""), q.get("recordname", ""), q.get("recordtype", "")))
        except Route53Refused as refused:
            return error_response(request, refused.status, refused.code, refused.message)

    # --- DynamoDB point in time ------------------------------------------------------------------------------

    def _restore_table(self, request: AwsRequest) -> Reply:
        body = request.json_body
        source = body.get("SourceTableName") or str(body.get("SourceTableArn", "")).rsplit("/", 1)[-1]
        target = body.get("TargetTableName", "")
        use_latest = bool(body.get("UseLatestRestorableTime"))
        restore_time = None if use_latest or body.get("RestoreDateTime") is None else float(body["RestoreDateTime"])
        if motostate.dynamodb_table(request.region, source) is None:
            return self._moto(request)  # moto answers SourceTableNotFoundException
        try:
            self.lab.pitr.check_restorable(request.region, source, restore_time)
        except RestoreRefused as refused:
            return error_response(request, 400, refused.code, refused.message)
        requested = time.time()
        status, headers, reply = self._moto(request)
        if status == 200:
            restored = self.lab.pitr.replay_into(request.region, source, target, restore_time)
            padding = self.lab.hold_restored_table(request.region, target, requested)
            self.lab.events.record("table_restored", region=request.region, source=source, target=target,
                                   restore_time=restore_time, items=restored, **padding)
        return status, headers, reply

    def _describe_table(self, request: AwsRequest) -> Reply:
        """A restored table stays CREATING until AWS's restore time (scaled) has passed (padding)."""
        status, headers, reply = self._moto(request)
        name = str(request.json_body.get("TableName", ""))
        if status == 200 and self.lab.table_restoring(request.region, name):
            reply = reply.replace(b'"TableStatus": "ACTIVE"', b'"TableStatus": "CREATING"') \
                         .replace(b'"TableStatus":"ACTIVE"', b'"TableStatus":"CREATING"')
            # The body grew: its length and DynamoDB's CRC32 of it (botocore checks it) follow.
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "x-amz-crc32")]
            headers += [("Content-Length", str(len(reply))), ("x-amz-crc32", str(zlib.crc32(reply)))]
        return status, headers, reply

    def _update_continuous_backups(self, request: AwsRequest) -> Reply:
        status, headers, reply = self._moto(request)
        if status == 200:
            body = request.json_body
            spec = body.get("PointInTimeRecoverySpecification") or {}
            if spec.get("PointInTimeRecoveryEnabled") is True:
                self.lab.pitr.enable(request.region, body.get("TableName", ""))
            elif spec.get("PointInTimeRecoveryEnabled") is False:
                self.lab.pitr.disable(request.region, body.get("TableName", ""))
        return status, headers, reply

    # --- S3 writes to replicated buckets -----------------------------------------------------------------

    def _s3_write(self, request: AwsRequest) -> Reply:
        bucket, key = request.s3_bucket_and_key
        if not self.lab.replication.is_replicated_bucket(bucket):
            return self._moto(request)
        status, headers, reply = self._moto(request)
        if status >= 300:
            return status, headers, reply
        if request.operation == "DeleteObjects":
            self._record_deleted_objects(bucket, reply)
            return status, headers, reply
        header = {name.lower(): value for name, value in headers}
        version_id = header.get("x-amz-version-id")
        if version_id is None:
            return status, headers, reply
        if request.operation == "DeleteObject":
            if "versionId" not in request.query:  # deleting one version is not replicated (nor on S3)
                self.lab.replication.record_object_change(bucket, key, version_id, None)
        else:
            source_key = motostate.s3_backend().get_object(bucket, key, version_id=version_id)
            if source_key is not None:
                self.lab.replication.record_object_change(bucket, key, version_id, source_key)
        return status, headers, reply

    def _record_deleted_objects(self, bucket: str, reply: bytes) -> None:
        for deleted in ElementTree.fromstring(reply).iter():
            if not deleted.tag.endswith("Deleted"):
                continue
            fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in deleted}
            if fields.get("DeleteMarker") == "true" and fields.get("DeleteMarkerVersionId") and "VersionId" not in fields:
                self.lab.replication.record_object_change(bucket, fields["Key"],
                                                          fields["DeleteMarkerVersionId"], None)

    # --- ARC Region switch (chaos/lab/region_switch.py) ---------------------------------------------------------

    def _region_switch(self, request: AwsRequest) -> Reply:
        try:
            answer = self.lab.region_switch.call(request.operation, request.json_body)
        except RegionSwitchRefused as refused:
            return error_response(request, refused.status, refused.code, refused.message)
        body = json.dumps(answer).encode()
        return 200, [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))], body

    # --- RDS ---------------------------------------------------------------------------------------------------

    def _rds_call(self, request: AwsRequest) -> Reply:
        status, headers, reply = self._moto(request)
        if status == 200 and request.operation == "PromoteReadReplica":
            rds.forget_replica_source(request)
        data_plane = self.lab.running_data_plane
        if status != 200 or data_plane is None:
            return status, headers, reply
        if request.operation in rds.DATA_PLANE_OPERATIONS:
            try:
                rds.act_on_data_plane(request, data_plane)
            except Exception as error:  # surface it: the runbook must not believe a failover happened
                log.exception("data plane failed on %s", request.operation)
                return error_response(request, 500, "InternalFailure",
                                      f"lab PostgreSQL data plane failed on {request.operation}: {error}")
        reply = rds.rewrite_endpoints(reply, data_plane)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(reply))))
        return status, headers, reply

    # --- EFS replication (chaos/lab/efs.py) -----------------------------------------------------------------

    def _efs_call(self, request: AwsRequest) -> Reply:
        reply = self.lab.efs.call(request.method, request.path, request.query)
        return self._moto(request) if reply is None else reply

    # --- EC2: the EBS data behind snapshots and volumes ---------------------------------------------------

    def _ec2_data(self, request: AwsRequest) -> Reply:
        status, headers, reply = self._moto(request)
        if status != 200:
            return status, headers, reply
        # EC2 answers in camelCase (<volumeId>); the data plane reads PascalCase like the request
        answer = {_pascal(child.tag.rsplit("}", 1)[-1]): child.text
                  for child in ElementTree.fromstring(reply) if len(child) == 0}
        params = {name: request.param(name) for name in
                  ("VolumeId", "SnapshotId", "SourceSnapshotId", "AvailabilityZone")}
        try:
            self.lab.ebs.after_ec2_call(request.operation, request.region, params, answer)
        except Exception as error:  # the caller must not believe the data moved
            log.exception("EBS data plane failed on %s", request.operation)
            return error_response(request, 500, "InternalError",
                                  f"lab EBS data plane failed on {request.operation}: {error}")
        return status, headers, reply

    # --- the backup lab -----------------------------------------------------------------------------------

    def _rds_snapshot_call(self, request: AwsRequest) -> Reply:
        status, headers, reply = self.lab.backup.rds_call(request, self._moto)
        data_plane = self.lab.running_data_plane
        if status != 200 or data_plane is None:
            return status, headers, reply
        reply = rds.rewrite_endpoints(reply, data_plane)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        return status, headers + [("Content-Length", str(len(reply)))], reply

    def _s3_archive_call(self, request: AwsRequest) -> Reply:
        answered = self.lab.backup.s3_archive_call(request, self._moto)
        return answered if answered is not None else self._moto(request)


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _refused(environ: dict[str, Any], reply: Reply) -> Reply:
    """A refusal of an unauthenticated request. Its body is drained (a kept-alive connection would
    read it as the next request) up to a bound, never buffered: past the bound the connection is
    closed instead, so nobody without credentials can make the lab hold a large body in memory."""
    stream, left = environ["wsgi.input"], _content_length(environ)
    while 0 < left <= _DRAIN_LIMIT_BYTES:
        chunk = stream.read(min(left, 64 * 1024))
        if not chunk:
            break
        left -= len(chunk)
    status, headers, body = reply
    if left or environ.get("wsgi.input_terminated") and not environ.get("CONTENT_LENGTH"):
        headers = headers + [("Connection", "close")]
    return status, headers, body


def _content_length(environ: dict[str, Any]) -> int:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _json(status: int, payload: dict[str, Any]) -> Reply:
    body = json.dumps(payload).encode()
    return status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body


def _xml(status: int, body: bytes) -> Reply:
    return status, [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))], body


def _send(start_response: Callable, reply: Reply) -> list[bytes]:
    status, headers, body = reply
    start_response(f"{status} {_REASONS.get(status, 'Status')}", headers)
    return [body]
