"""When the cyclic garbage collector may pause a process: between measurements, and briefly.

Both processes of a game day hold a large long-lived heap: the harness ~300-400k container
objects (pulumi_aws and botocore models, imported modules), the lab ~1 M (the botocore service
models moto's serializers and the lab's clients load, moto's modules). A full collection walks all
of it with the GIL held, 0.25-0.7 s here: in the lab no request is answered and no PostgreSQL byte
forwarded meanwhile, in the harness no canary writes, so every canary stalls at the same instant
and the measured RPO/RTO are blurred by that much. `gc.freeze()` takes the long-lived heap out of
the collector's sight; full collections then walk only what was made since (one deployment, one
scenario's writes): 7-60 ms in the prod game day (20-85k objects).

`settle()` is called where a pause costs no measurement (the lab: at the end of a deploy; the
harness: before a wave's canaries start). It collects the unfrozen part, and freezes anew only
when what survives is large (REFREEZE_OBJECTS): new long-lived state was loaded since, such as a
service's botocore model the first time a deployment uses RDS. Refreezing first unfreezes and
collects everything (one full walk), so the garbage left in the frozen generation since the last
refreeze is collected then.

Why not freeze after every deploy and unfreeze at the next teardown (what the lab did): each of the
16 waves of the prod game day then paid a full walk twice over, 0.5-0.7 s in the lab and 0.25-0.45 s
in the harness, ~12 s of a 3-minute run. And why not freeze once and never again: objects frozen
that later become cyclic garbage (a torn-down deployment) would stay forever. Here they stay only
until the next refreeze, which happens each time the long-lived heap grows: what is kept is at most
one deployment per refreeze, and the process refreezes a handful of times in its life.

Process-wide by nature: the lab is its own process; a test that runs a lab in-process shares the
policy with its own objects, which only changes when garbage is collected.
"""
from __future__ import annotations

import gc

# Unfrozen objects surviving a full collection above which they are treated as new long-lived
# state and frozen. A deployment of the prod stack leaves 40-90k (its moto resources, clients,
# threads); a first use of a service's botocore model adds 100-250k.
REFREEZE_OBJECTS = 120_000


# Whether `settle` has frozen this process's heap yet. Not `gc.get_freeze_count()`: Python 3.12
# counts objects of its own there from the start (375 on 3.12.1).
_frozen = False


def settle() -> bool:
    """Collect now; freeze the long-lived heap when it is new or has grown. True when it froze."""
    global _frozen
    gc.collect()
    if _frozen and len(gc.get_objects(generation=2)) <= REFREEZE_OBJECTS:
        return False
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    _frozen = True
    return True


__all__ = ["REFREEZE_OBJECTS", "settle"]
