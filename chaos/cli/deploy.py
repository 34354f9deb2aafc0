"""`python -m chaos deploy`: create a stack's resources in an AWS-compatible endpoint (LocalStack).

For CI without the Pulumi CLI: the stack is evaluated offline (infra.offline, the real program
under Pulumi's mocks) and its inventory is created through the lab's deploy code against the
endpoint. --inventory-out gets the inventory with the endpoint's ids and account, and a `deployed`
block listing what the endpoint did not offer ("declared, not created"), for
`python -m chaos gameday --target localstack --endpoint URL --inventory FILE`.
Exit 0 when deployed (some resources may be declared, not created); 2 on bad input.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from chaos.errors import EXIT_OK, ChaosError
from chaos.targets.localstack import _http_status


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("deploy", help="create a stack's resources in an endpoint (LocalStack) "
                                                  "without Pulumi", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="Pulumi stack to deploy (e.g. localstack)")
    parser.add_argument("--endpoint", required=True, help="endpoint URL, e.g. http://127.0.0.1:4566")
    parser.add_argument("--inventory-out", required=True, type=Path, metavar="FILE",
                        help="write the deployed inventory (endpoint ids) to FILE")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from chaos.cli.lab import _evaluate
    from chaos.targets.localstack import LocalStackTarget

    LocalStackTarget(args.endpoint, {})  # validates the URL's shape (one-line error)
    endpoint = args.endpoint.rstrip("/")
    if not args.inventory_out.parent.is_dir():
        raise ChaosError(f"--inventory-out: directory {args.inventory_out.parent} does not exist; create it")
    if _http_status(f"{endpoint}/_localstack/health") is None:
        raise ChaosError(f"--endpoint: nothing answers at {endpoint}; start LocalStack there or fix the URL")
    inventory = _evaluate(args.stack)
    if not inventory.get("chaos_enabled"):
        raise ChaosError(f"--stack: {args.stack} has chaos_enabled: false; set securecart-dr:chaos.enabled "
                         "true for a stack you deploy to a chaos endpoint")

    from botocore.exceptions import BotoCoreError, ClientError

    from chaos.lab.deploy import DeployError
    from chaos.targets.endpoint_deploy import EndpointDeployer, describe_refusal
    try:
        deployed = EndpointDeployer(endpoint, inventory).deploy_to_endpoint()
    except DeployError as error:
        raise ChaosError(str(error)) from None
    except (ClientError, BotoCoreError) as error:
        raise ChaosError(f"--endpoint: {endpoint} refused the deploy ({describe_refusal(error)})") from None
    args.inventory_out.write_text(json.dumps(deployed, indent=2), encoding="utf-8")
    block = deployed["deployed"]
    print(f"deployed stack {args.stack} to {endpoint} (account {block['account']}): "
          f"{len(block['created'])} resources created")
    for item in block["declared_not_created"]:
        where = f" ({item['workload']})" if item.get("workload") else ""
        print(f"  declared, not created: {item['resource']}{where}: {item['reason']}")
    print(f"inventory written to {args.inventory_out}")
    return EXIT_OK
