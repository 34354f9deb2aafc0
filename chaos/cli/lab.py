"""`python -m chaos lab`: run the embedded lab on its own, to point the AWS CLI, an app or a game day at it.

Serves moto + the lab's emulations on 127.0.0.1 until SIGINT/SIGTERM, then stops everything
(PostgreSQL included). With --stack, deploys that stack's topology (evaluated offline, as the game
day does); --inventory-out writes the deployed inventory (lab ids in place) for
`python -m chaos gameday --target localstack --endpoint URL --inventory FILE`.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

from chaos.errors import EXIT_OK, ChaosError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lab", help="run the embedded lab (moto + fault gateway) on 127.0.0.1",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default 0: a free port)")
    parser.add_argument("--stack", help="deploy this Pulumi stack's topology (e.g. prod) at start")
    parser.add_argument("--replication-lag", type=float, metavar="S",
                        help="replication lag in seconds for every replicated store (default: AWS figures)")
    parser.add_argument("--time-factor", type=float, default=1.0, metavar="X",
                        help="lab seconds per AWS second (0.1 = ten times faster; default 1.0)")
    parser.add_argument("--profile", choices=("aws", "mechanics"), default="mechanics",
                        help="with --stack: timing of the deploy (docs/lab-time.md; default mechanics)")
    parser.add_argument("--ready-file", type=Path, metavar="F",
                        help="write {endpoint, pid} here once serving (used by the harness)")
    parser.add_argument("--workdir", type=Path, metavar="D",
                        help="directory for PostgreSQL data (default: a temporary one, removed at exit)")
    parser.add_argument("--inventory-out", type=Path, metavar="FILE",
                        help="with --stack: write the deployed inventory (lab ids) to FILE")
    parser.add_argument("--resources-file", type=Path, metavar="F",
                        help="keep in F the list of processes and temporary directories the lab "
                             "creates, so they can be removed if it is killed (used by the harness)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.time_factor <= 0:
        raise ChaosError("--time-factor: must be > 0; e.g. 1.0 (real time) or 0.1 (ten times faster)")
    if args.replication_lag is not None and args.replication_lag < 0:
        raise ChaosError("--replication-lag: must be >= 0 seconds")
    if args.inventory_out and not args.stack:
        raise ChaosError("--inventory-out: needs --stack; name the stack to deploy")
    inventory = _evaluate(args.stack) if args.stack else None

    from chaos.lab.scratch import LEFTOVERS
    from chaos.lab.server import LabServer  # heavy (moto): import only when the lab really runs

    if args.resources_file:
        LEFTOVERS.write_to(args.resources_file)

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = LabServer(args.port, time_factor=args.time_factor, workdir=args.workdir)
    try:
        server.start()
        if inventory is not None:
            summary = server.lab.deploy(inventory, args.replication_lag, args.time_factor, args.profile)
            _print_summary(args.stack, summary)
            if args.inventory_out:
                args.inventory_out.write_text(json.dumps(summary["inventory"], indent=2))
                print(f"deployed inventory written to {args.inventory_out}")
        if args.ready_file:
            _write_atomically(args.ready_file, {"endpoint": server.endpoint, "pid": os.getpid()})
        _print_usage(server.endpoint, args.inventory_out)
        parent = os.getppid()
        # An orphaned lab (its harness was killed with SIGKILL) stops itself instead of running forever.
        while not stop.wait(0.5) and os.getppid() == parent:
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
        print("lab stopped")
    return EXIT_OK


def _evaluate(stack: str) -> dict[str, Any]:
    try:
        from chaos.targets.stack_inventory import stack_inventory
        return stack_inventory(stack)
    except ChaosError:
        raise
    except FileNotFoundError as error:
        raise ChaosError(f"--stack: no stack {stack!r} ({error}); use a Pulumi.<stack>.yaml that exists") from None
    except Exception as error:
        raise ChaosError(f"--stack: evaluating stack {stack!r} failed: {error}") from None


def _write_atomically(path: Path, payload: dict[str, Any]) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(payload))
    temporary.replace(path)


def _print_summary(stack: str, summary: dict[str, Any]) -> None:
    print(f"deployed stack {stack}: {len(summary['created'])} resources, "
          f"{len(summary['postgres'])} PostgreSQL servers, {len(summary['replication'])} replication links")
    for kind, lag in summary["replication_lag_defaults"].items():
        print(f"  {kind} replication lag {lag['seconds']} s ({lag['source']})")
    for item in summary["declared_not_emulated"]:
        print(f"  declared, not emulated: {item['resource']}: {item['reason']}")


def _print_usage(endpoint: str, inventory_out: Path | None) -> None:
    print(f"lab ready at {endpoint}")
    print(f"  AWS CLI:  AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=testing "
          f"AWS_SECRET_ACCESS_KEY=testing aws dynamodb list-tables --region us-east-1")
    print(f"  faults:   curl {endpoint}/_localstack/chaos/faults   (LocalStack Chaos API)")
    if inventory_out:
        print(f"  game day: python -m chaos gameday --stack <stack> --target localstack "
              f"--endpoint {endpoint} --inventory {inventory_out}")
    print("Ctrl-C stops the lab", flush=True)
