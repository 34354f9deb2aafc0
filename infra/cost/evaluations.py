"""What the program declares for a stack and for each what-if variant of its config.

The simulation reads the declared resources, the what-if table the envelope in the `inventory`
output; both come from running the real program under Pulumi's mock runtime (infra/offline.py),
about half a second of CPU per variant, five for prod (the stack and one variant per strategy). So:
- each evaluation is cached under a digest of everything it depends on
  (infra/evaluation_cache.py): a second run with the program and config unchanged reads them,
  and loads neither the program's modules nor the SDK's classes;
- the misses are independent and CPU-bound, so they run in parallel processes, forked after this
  one has loaded the program's modules and Pulumi classes once (the SDK loads them lazily, ~0.8 s
  of CPU): each fork starts warm, and the machine's cores share the evaluations.
"""
from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from infra import evaluation_cache
from infra.cost.workloads import Resource

Overrides = Mapping[str, Any] | None
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class Evaluated:
    """One evaluation: the declared resources the simulation reads, and the `inventory` output."""

    resources: tuple[Resource, ...]
    inventory: dict[str, Any]


def evaluated(stack: str, variants: Sequence[Overrides],
              meanwhile: Callable[[], object] | None = None) -> list[Evaluated]:
    """The evaluation of `stack` under each config variant (None: the stack as configured), in order.

    `meanwhile`: work for this process while forked evaluations run (it would wait idle), e.g. the
    output's own imports; run once in any case."""
    paths = []
    for overrides in variants:
        try:
            paths.append(evaluation_cache.entry_path("cost", stack,
                                                     evaluation_cache.inputs_digest(stack, overrides=overrides)))
        except OSError:
            paths.append(None)
    documents = [evaluation_cache.read(path) for path in paths]
    missing = [index for index, document in enumerate(documents) if document is None]
    for index, document in zip(missing, _evaluate_all(stack, [variants[i] for i in missing], meanwhile)):
        evaluation_cache.write(paths[index], document)
        documents[index] = document
    return [Evaluated(tuple(Resource(**r) for r in d["resources"]), d["inventory"]) for d in documents]


def _evaluate_all(stack: str, variants: list[Overrides],
                  meanwhile: Callable[[], object] | None) -> list[dict[str, Any]]:
    """Cache documents for the variants: in this process for one, else one forked process each."""
    meanwhile = meanwhile or (lambda: None)
    if len(variants) < 2 or (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        meanwhile()
        return [_evaluate(stack, overrides) for overrides in variants]
    from infra.offline import preload_program

    preload_program()
    # One process per variant rather than one per core: the last round of a 2-worker pool would
    # run one evaluation on one core while the other idles.
    with ProcessPoolExecutor(max_workers=len(variants), mp_context=multiprocessing.get_context("fork"),
                             initializer=_start_worker, initargs=(os.getpid(),)) as pool:
        documents = pool.map(partial(_evaluate, stack), variants)  # the forks start here
        meanwhile()
        return list(documents)


def _start_worker(parent: int) -> None:
    """Pool worker start. A worker runs one evaluation and exits: it never collects cycles (the
    collector costs half an evaluation's CPU, infra.offline.gc_paused). And it ends when the
    process that forked it ends, even by SIGKILL, which leaves no time to tell the workers: an
    orphaned worker would wait for work forever. Linux's parent-death signal (prctl
    PR_SET_PDEATHSIG); elsewhere the pool's own shutdown only."""
    gc.disable()
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return
    prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


def _evaluate(stack: str, overrides: Overrides) -> dict[str, Any]:
    from infra.offline import evaluate_stack  # heavy: only on a miss

    result = evaluate_stack(stack, overrides=overrides)
    return {"resources": [asdict(Resource.of(r)) for r in result.resources], "inventory": result.inventory}
