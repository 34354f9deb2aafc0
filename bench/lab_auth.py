"""What the lab's request authentication costs (chaos.lab.auth): prints figures, never asserts.

1. The SigV4 check of one DynamoDB PutItem request, in microseconds (botocore's own signer
   recomputes the signature, as moto does when its IAM auth is on).
2. Sequential boto3 `put_item` calls through a running lab (signature check on every request),
   acknowledged writes/s, to compare with docs/lab.md's Throughput figures.

Run: `.venv/bin/python -m bench.lab_auth [--seconds 5]`
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from chaos.lab.auth import LabCredentials  # noqa: E402


def signature_check_microseconds(rounds: int = 5000) -> float:
    keys = LabCredentials.generate()
    body = b'{"TableName":"catalog","Item":{"pk":{"S":"a"},"sk":{"S":"b"}}}'
    request = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body,
                         headers={"Content-Type": "application/x-amz-json-1.0",
                                  "X-Amz-Target": "DynamoDB_20120810.PutItem"})
    SigV4Auth(Credentials(keys.aws_access_key_id, keys.aws_secret_access_key), "dynamodb",
              "us-east-1").add_auth(request)
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": "/", "HTTP_HOST": "127.0.0.1:4566",
               "CONTENT_TYPE": "application/x-amz-json-1.0"}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in request.headers.items()
                    if k.lower() != "content-type"})
    assert keys.signature_problem(environ, lambda: body) is None
    started = time.perf_counter()
    for _ in range(rounds):
        keys.signature_problem(environ, lambda: body)
    return (time.perf_counter() - started) / rounds * 1e6


def put_item_rate(seconds: float) -> float:
    from tests.lab._lab_fixtures import PRIMARY, client, deployed_lab

    with deployed_lab() as (server, _, _):
        dynamodb = client(server.endpoint, "dynamodb", PRIMARY)
        done, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            dynamodb.put_item(TableName="catalog", Item={"pk": {"S": f"k{done}"}, "sk": {"S": "s"}})
            done += 1
    return done / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(f"SigV4 check per request: {signature_check_microseconds():.0f} us")
    print(f"sequential put_item through the lab (replicated, PITR table): {put_item_rate(args.seconds):.0f} writes/s")


if __name__ == "__main__":
    main()
