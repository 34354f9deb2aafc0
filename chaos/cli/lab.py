"""`python -m chaos lab`: run the embedded lab on its own, to point the AWS CLI, an app or a game day at it.

Serves moto + the lab's emulations on 127.0.0.1 until SIGINT/SIGTERM, then stops everything
(PostgreSQL included). With --stack, deploys that stack's topology (evaluated offline, as the game
day does); --inventory-out writes the deployed inventory (lab ids in place) for
`python -m chaos gameday --target localstack --endpoint URL --inventory FILE`.
"""
from __future__ import annotations

import argparse
import json
import math
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
                        help="write {endpoint, pid, token, AWS keys} here (mode 0600) once serving "
                             "(default: ~/.cache/securecart-lab/lab-127.0.0.1-PORT.json)")
    parser.add_argument("--workdir", type=Path, metavar="D",
                        help="directory for PostgreSQL data (default: a temporary one, removed at exit)")
    parser.add_argument("--inventory-out", type=Path, metavar="FILE",
                        help="with --stack: write the deployed inventory (lab ids) to FILE")
    parser.add_argument("--resources-file", type=Path, metavar="F",
                        help="keep in F the list of processes and temporary directories the lab "
                             "creates, so they can be removed if it is killed (used by the harness)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from chaos.lab.deploy import MAX_REPLICATION_LAG_SECONDS, MAX_TIME_FACTOR

    if not (math.isfinite(args.time_factor) and 0 < args.time_factor <= MAX_TIME_FACTOR):
        raise ChaosError(f"--time-factor: must be > 0 and <= {MAX_TIME_FACTOR:g}; e.g. 1.0 (real time) "
                         "or 0.1 (ten times faster)")
    if args.replication_lag is not None and not (
            math.isfinite(args.replication_lag) and 0 <= args.replication_lag <= MAX_REPLICATION_LAG_SECONDS):
        raise ChaosError(f"--replication-lag: must be between 0 and {MAX_REPLICATION_LAG_SECONDS:g} seconds "
                         "(S3 RTC's 15-minute SLA, the slowest lag the lab emulates); pass e.g. 2")
    if not 0 <= args.port <= 65535:
        raise ChaosError("--port: must be between 0 and 65535 (0: a free port)")
    if args.inventory_out and not args.stack:
        raise ChaosError("--inventory-out: needs --stack; name the stack to deploy")
    inventory = _evaluate(args.stack) if args.stack else None

    from chaos.lab.auth import default_ready_file, write_ready_file
    from chaos.lab.scratch import LEFTOVERS
    from chaos.lab.server import LabServer  # heavy (moto): import only when the lab really runs

    if args.resources_file:
        LEFTOVERS.write_to(args.resources_file)

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = LabServer(args.port, time_factor=args.time_factor, workdir=args.workdir)
    ready_file: Path | None = None
    try:
        server.start()
        if inventory is not None:
            summary = server.lab.deploy(inventory, args.replication_lag, args.time_factor, args.profile)
            _print_summary(args.stack, summary)
            if args.inventory_out:
                args.inventory_out.write_text(json.dumps(summary["inventory"], indent=2))
                print(f"deployed inventory written to {args.inventory_out}")
        ready_file = args.ready_file or default_ready_file(server.port)
        try:
            write_ready_file(ready_file, server.endpoint, server.lab.credentials)
        except OSError as error:
            raise ChaosError(f"--ready-file: cannot write {ready_file} ({error.strerror}); pass a "
                             "writable path") from None
        _print_usage(server.endpoint, ready_file, args.inventory_out)
        parent = os.getppid()
        # An orphaned lab (its harness was killed with SIGKILL) stops itself instead of running forever.
        while not stop.wait(0.5) and os.getppid() == parent:
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if ready_file is not None:  # its credentials die with this lab
            ready_file.unlink(missing_ok=True)
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


def _print_summary(stack: str, summary: dict[str, Any]) -> None:
    print(f"deployed stack {stack}: {len(summary['created'])} resources, "
          f"{len(summary['postgres'])} PostgreSQL servers, {len(summary['replication'])} replication links")
    for kind, lag in summary["replication_lag_defaults"].items():
        print(f"  {kind} replication lag {lag['seconds']} s ({lag['source']})")
    for item in summary["declared_not_emulated"]:
        print(f"  declared, not emulated: {item['resource']}: {item['reason']}")


def _print_usage(endpoint: str, ready_file: Path, inventory_out: Path | None) -> None:
    """How to reach the lab. The secrets themselves are never printed (a terminal log or a CI log
    is readable by more people than the 0600 ready file)."""
    reader = f"python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]])' {ready_file} \"$1\""
    print(f"lab ready at {endpoint}")
    print(f"  credentials: {ready_file} (mode 0600: token + AWS keys of this lab; docs/lab.md)")
    print(f"  read them:   field() {{ {reader}; }}")
    print(f"  AWS CLI:     AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=$(field aws_access_key_id) "
          "AWS_SECRET_ACCESS_KEY=$(field aws_secret_access_key) aws dynamodb list-tables --region us-east-1")
    print(f"  faults:      curl -H \"X-Lab-Token: $(field token)\" {endpoint}/_localstack/chaos/faults"
          "   (LocalStack Chaos API)")
    if inventory_out:
        print(f"  game day:    python -m chaos gameday --stack <stack> --target localstack "
              f"--endpoint {endpoint} --inventory {inventory_out}")
    print("Ctrl-C stops the lab", flush=True)
