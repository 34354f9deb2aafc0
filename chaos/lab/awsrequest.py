"""What an incoming AWS API request is: region, service, operation, and the raw body.

Everything here is cheap on purpose: the middleware builds one `AwsRequest` per request, and a
sequential put_item loop through the lab must stay well above 200 writes/s. Region and service come
from the SigV4 credential scope in the `Authorization` header (one endpoint serves every region);
the operation from `X-Amz-Target` (JSON protocols), `Action` (query protocols) or method + path
(REST protocols: S3 and Route 53 are mapped; other REST services get an empty operation).
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, unquote_plus

# Route 53 is a global service: its data plane (DNS answers) has no region to lose.
GLOBAL_SERVICES = frozenset({"route53", "iam", "cloudfront", "organizations"})

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_S3_SUBRESOURCES = ("versioning", "replication", "lifecycle", "policy", "tagging", "acl",
                    "encryption", "cors", "location", "object-lock", "ownershipControls",
                    "publicAccessBlock", "notification", "website", "logging")


@dataclass
class AwsRequest:
    """One request as the lab sees it. Build with `from_environ`; the body is read at most once."""

    environ: dict[str, Any]
    method: str
    path: str
    query: dict[str, list[str]]
    region: str
    service: str
    target: str
    _body: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> "AwsRequest":
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region, service = (scope.group(1), scope.group(2)) if scope else ("", "")
        query_string = environ.get("QUERY_STRING", "")
        return cls(
            environ=environ,
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO", "/"),
            query=parse_qs(query_string, keep_blank_values=True) if query_string else {},
            region=region,
            service=service,
            target=environ.get("HTTP_X_AMZ_TARGET", ""),
        )

    @property
    def is_aws(self) -> bool:
        return bool(self.service)

    @property
    def is_global_service(self) -> bool:
        return self.service in GLOBAL_SERVICES

    @property
    def body(self) -> bytes:
        """The raw body; reading it puts a fresh stream back so moto can read it again."""
        if self._body is None:
            stream = self.environ["wsgi.input"]
            length = self.environ.get("CONTENT_LENGTH")
            if length:
                self._body = stream.read(int(length))
            elif self.environ.get("wsgi.input_terminated"):  # chunked upload: the server ends it
                self._body = stream.read()
            else:
                self._body = b""
            self.environ["wsgi.input"] = io.BytesIO(self._body)
        return self._body

    @cached_property
    def json_body(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @cached_property
    def form(self) -> dict[str, list[str]]:
        """Query-protocol parameters (RDS, EC2, SNS...): the form body merged with the query string."""
        params = dict(self.query)
        if "x-www-form-urlencoded" in self.environ.get("CONTENT_TYPE", ""):
            params.update(parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        return params

    def param(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None

    @property
    def protocol(self) -> str:
        """`json`, `query`, `ec2`, `rest-xml` or `rest-json`: decides the shape of an error reply."""
        if self.target:
            return "json"
        if self.service in ("s3", "route53", "cloudfront"):
            return "rest-xml"
        if "x-www-form-urlencoded" in self.environ.get("CONTENT_TYPE", "") or "Action" in self.query:
            return "ec2" if self.service == "ec2" else "query"
        return "rest-json"

    @cached_property
    def operation(self) -> str:
        if self.target:
            return self.target.rsplit(".", 1)[-1]
        if self.service == "s3":
            return self._s3_operation()
        if self.service == "route53":
            return self._route53_operation()
        if self.protocol in ("query", "ec2"):
            return self.param("Action") or ""
        return ""

    # --- S3 (path-style addressing: the lab's endpoint is an IP address, so boto3 uses it) -------

    @cached_property
    def s3_bucket_and_key(self) -> tuple[str, str]:
        parts = self.path.lstrip("/").split("/", 1)
        return parts[0], (parts[1] if len(parts) > 1 else "")

    def _s3_operation(self) -> str:
        bucket, key = self.s3_bucket_and_key
        q, method = self.query, self.method
        if not bucket:
            return "ListBuckets"
        if key:
            if method == "PUT":
                if "partNumber" in q:
                    return "UploadPart"
                if "HTTP_X_AMZ_COPY_SOURCE" in self.environ:
                    return "CopyObject"
                return "PutObjectTagging" if "tagging" in q else "PutObject"
            if method in ("GET", "HEAD"):
                return "GetObject" if method == "GET" else "HeadObject"
            if method == "DELETE":
                return "AbortMultipartUpload" if "uploadId" in q else "DeleteObject"
            if method == "POST":
                if "uploads" in q:
                    return "CreateMultipartUpload"
                if "uploadId" in q:
                    return "CompleteMultipartUpload"
                return "RestoreObject" if "restore" in q else "PostObject"
        if method == "POST" and "delete" in q:
            return "DeleteObjects"
        sub = next((name for name in _S3_SUBRESOURCES if name in q), None)
        verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head"}.get(method, method)
        if sub:
            return f"{verb}Bucket{sub[0].upper()}{sub[1:]}"
        if method == "GET":
            if "versions" in q:
                return "ListObjectVersions"
            return "ListObjectsV2" if q.get("list-type") == ["2"] else "ListObjects"
        return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(method, "")

    # --- Route 53 ---------------------------------------------------------------------------------

    def _route53_operation(self) -> str:
        parts = [p for p in self.path.split("/") if p][1:]  # drop the API version
        method = self.method
        if not parts:
            return ""
        head = parts[0]
        if head == "testdnsanswer":
            return "TestDNSAnswer"
        if head == "healthcheck":
            if len(parts) == 3 and parts[2] == "status":
                return "GetHealthCheckStatus"
            if len(parts) == 1:
                return "CreateHealthCheck" if method == "POST" else "ListHealthChecks"
            return {"GET": "GetHealthCheck", "POST": "UpdateHealthCheck",
                    "DELETE": "DeleteHealthCheck"}.get(method, "")
        if head == "hostedzone":
            if len(parts) == 3 and parts[2] == "rrset":
                return "ChangeResourceRecordSets" if method == "POST" else "ListResourceRecordSets"
            if len(parts) == 1:
                return "CreateHostedZone" if method == "POST" else "ListHostedZones"
            return {"GET": "GetHostedZone", "DELETE": "DeleteHostedZone"}.get(method, "")
        return ""

    def route53_id(self) -> str:
        """The id in `/2013-04-01/<healthcheck|hostedzone>/<id>/...`."""
        parts = [p for p in self.path.split("/") if p]
        return parts[2] if len(parts) > 2 else ""

    # --- resource mentions (used only when a `resource` or `zone` rule exists) --------------------

    def mentions(self, identifier: str) -> bool:
        """Does the request name this resource (by name, identifier or ARN) anywhere?"""
        names = {identifier}
        if identifier.startswith("arn:"):
            names.add(re.split(r"[:/]", identifier)[-1])
        haystack = self.path + " " + self.environ.get("QUERY_STRING", "")
        if self.method in ("POST", "PUT", "PATCH") and self.service != "s3":
            haystack += " " + self.body.decode("utf-8", "replace")
        haystack = unquote_plus(haystack)
        return any(re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", haystack) for name in names)
