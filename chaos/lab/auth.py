"""Who may talk to the lab: a per-lab token for its own APIs, SigV4 with per-lab keys for AWS APIs.

The lab runs as root on a machine other people may log in to, and listens on 127.0.0.1, which
every local user can reach. So at start it makes three random secrets, `LabCredentials`, and
writes them only to its ready file (mode 0600, see `write_ready_file`):
- `token`: required in the `X-Lab-Token` header of every `/_lab/*`, `/_localstack/chaos/*` and
  `/moto-api/*` request (deploy, reset, faults, replication, moto's own state dump and reset);
- `aws_access_key_id` / `aws_secret_access_key`: every AWS API request must be SigV4-signed with
  them, verified here with botocore's own signer (what moto does when IAM auth is on). That keeps
  boto3 and the AWS CLI working unchanged (they sign anyway) while another user can neither read
  the lab's Secrets Manager secrets (the PostgreSQL password) nor delete or alter a game day's
  resources. An access key id is not a secret on AWS; here the secret key is what proves it.
The threat model is in docs/lab.md.
"""
from __future__ import annotations

import calendar
import functools
import hmac
import json
import os
import re
import secrets
import string
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TOKEN_HEADER = "X-Lab-Token"
_TOKEN_ENVIRON = "HTTP_X_LAB_TOKEN"
# AWS: "In most cases, a request must reach AWS within five minutes of the time stamp in the
# request" (IAM User Guide, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html,
# as quoted on AWS re:Post, read 2026-11-30); AWS's developer blog puts the rejection at "more than
# about 15 minutes" of skew (https://aws.amazon.com/blogs/developer/clock-skew-correction/, read
# 2026-11-30). The lab takes the lenient 15: the bound is against replaying an old request; the
# signature itself is what keeps strangers out.
MAX_CLOCK_SKEW_SECONDS = 15 * 60
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/"
    r"(?P<service>[a-z0-9-]+)/aws4_request, ?SignedHeaders=(?P<headers>[a-z0-9;._-]+), ?"
    r"Signature=(?P<signature>[0-9a-f]{64})$")


@dataclass(frozen=True)
class LabCredentials:
    token: str
    aws_access_key_id: str
    aws_secret_access_key: str

    @classmethod
    def generate(cls) -> "LabCredentials":
        # Not 12 digits: moto would read a numeric key id as an account id.
        key_id = "LAB" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(17))
        return cls(token=secrets.token_urlsafe(32), aws_access_key_id=key_id,
                   aws_secret_access_key=secrets.token_urlsafe(30))

    @classmethod
    def from_json(cls, raw: Any) -> "LabCredentials":
        return cls(token=str(raw["token"]), aws_access_key_id=str(raw["aws_access_key_id"]),
                   aws_secret_access_key=str(raw["aws_secret_access_key"]))

    @property
    def boto3(self) -> dict[str, str]:
        """Keyword arguments for `boto3.Session`."""
        return {"aws_access_key_id": self.aws_access_key_id,
                "aws_secret_access_key": self.aws_secret_access_key}

    # --- checks (the middleware calls these on every request) -------------------------------------

    def token_ok(self, environ: dict[str, Any]) -> bool:
        return hmac.compare_digest(environ.get(_TOKEN_ENVIRON, "").encode(), self.token.encode())

    def signature_problem(self, environ: dict[str, Any], body: Callable[[], bytes]) -> str | None:
        """None when the request is SigV4-signed with the lab's keys; else why not (one line).

        `body` is called (the payload read) only once the key id is known to be the lab's."""
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        match = _AUTHORIZATION.match(authorization)
        if match is None:
            return "the request is not signed with AWS Signature Version 4"
        if not hmac.compare_digest(match["key"].encode(), self.aws_access_key_id.encode()):
            return "unknown access key id; use the lab's keys from its ready file"
        timestamp = environ.get("HTTP_X_AMZ_DATE", "")
        try:
            signed_at = calendar.timegm(time.strptime(timestamp, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            return "X-Amz-Date is missing or malformed"
        if abs(time.time() - signed_at) > MAX_CLOCK_SKEW_SECONDS:
            return "the signature is more than 15 minutes old or ahead (clock skew)"
        signed = match["headers"].split(";")
        headers = {name: _header(environ, name) for name in signed}
        if any(value is None for value in headers.values()):
            return "a signed header is missing from the request"
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        request = AWSRequest(method=environ.get("REQUEST_METHOD", "GET"),
                             url=f"http://{headers.get('host') or 'localhost'}{raw_uri}",
                             data=body(), headers=headers)
        request.context["timestamp"] = timestamp
        signer_class = S3SigV4Auth if match["service"] == "s3" else SigV4Auth
        signer = signer_class(Credentials(self.aws_access_key_id, self.aws_secret_access_key),
                              match["service"], match["region"])
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected.encode(), match["signature"].encode()):
            return "the signature does not match; sign with the lab's secret access key"
        return None


def _header(environ: dict[str, Any], name: str) -> str | None:
    if name == "content-type":
        return environ.get("CONTENT_TYPE")
    if name == "content-length":
        return environ.get("CONTENT_LENGTH")
    return environ.get("HTTP_" + name.upper().replace("-", "_"))


# --- the ready file ---------------------------------------------------------------------------------

def default_ready_file(port: int) -> Path:
    """Where `python -m chaos lab` writes its ready file when given none, and where the LocalStack
    target looks for a standalone lab's credentials: private to the user who started it."""
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or Path.home() / ".cache")
    return base / "securecart-lab" / f"lab-127.0.0.1-{port}.json"


def write_ready_file(path: Path, endpoint: str, credentials: LabCredentials) -> None:
    """Write `{endpoint, pid, token, aws_access_key_id, aws_secret_access_key}` readable by us only.

    Created 0600 from the start (never world-readable for an instant) and renamed into place, so
    a reader sees the whole file or none.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    payload = json.dumps({"endpoint": endpoint, "pid": os.getpid(), **asdict(credentials)})
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(payload)
    os.replace(temporary, path)


def read_ready_file(path: Path) -> tuple[str, LabCredentials]:
    """(endpoint, credentials) from a ready file; KeyError/ValueError/OSError when it is not one."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return str(raw["endpoint"]), LabCredentials.from_json(raw)


READY_FILE_ENV = "SECURECART_LAB_READY_FILE"


def credentials_for(endpoint: str, port: int | None, *, strict: bool) -> LabCredentials | None:
    """A standalone lab's credentials for `endpoint`, from its ready file: $SECURECART_LAB_READY_FILE,
    else the lab's default path for `port`. None when no ready file names this endpoint (LocalStack
    needs none). `strict`: a file the user named that is missing, or any unreadable one, is a
    one-line ChaosError; otherwise it is simply not found (recover keeps going without it)."""
    from chaos.errors import ChaosError
    configured = os.environ.get(READY_FILE_ENV)
    path = Path(configured) if configured else (default_ready_file(port) if port else None)
    if path is None:
        return None
    try:
        found, credentials = read_ready_file(path)
    except FileNotFoundError:
        if strict and configured:
            raise ChaosError(f"{READY_FILE_ENV}: {configured} does not exist; point it at the lab's "
                             "--ready-file") from None
        return None
    except (OSError, ValueError, KeyError) as err:
        if not strict:
            return None
        raise ChaosError(f"lab ready file {path}: unreadable ({err}); run as the user who started the "
                         f"lab, or set {READY_FILE_ENV}") from None
    return credentials if found.rstrip("/") == endpoint.rstrip("/") else None


_CLIENTS_LOCK = threading.Lock()


def signed_client(keys: tuple[str, str], service: str, region: str, endpoint: str, config: Any) -> Any:
    """A boto3 client on the lab signed with `keys` (the lab's own, for its own parts).

    Built from one boto3 session per key pair: a session loads the endpoint rules and each service
    model it builds a client for from botocore's JSON, so a session per client spent ~70 ms a
    client on the same files (2.2 s for 28 clients, 0.4 s from one session). boto3 sessions are
    not thread-safe, and the lab's threads build clients: one at a time."""
    with _CLIENTS_LOCK:
        return _session(keys).client(service, region_name=region, endpoint_url=endpoint, config=config)


@functools.lru_cache(maxsize=None)
def _session(keys: tuple[str, str]) -> boto3.Session:
    return boto3.Session(aws_access_key_id=keys[0], aws_secret_access_key=keys[1])
