"""chaos.heap: collect between measurements, freeze only new long-lived state, keep garbage bounded.

Each check runs in a fresh interpreter: the collector's state is process-wide, and a test worker's
own heap (millions of objects after the infra tests) would make every refreeze slow and the
counts depend on what ran before."""
from __future__ import annotations

import subprocess
import sys
import textwrap

PRELUDE = """
import gc, weakref
from chaos import heap

class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the cyclic collector frees it

def long_lived(count):
    return [[i] for i in range(count)]  # tracked containers, like a service model's dicts

BIG = heap.REFREEZE_OBJECTS + 10_000
"""


def _run(body: str) -> None:
    code = PRELUDE + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_a_settled_heap_is_not_frozen_again_until_new_long_lived_state_appears():
    _run("""
        assert heap.settle() is True  # nothing frozen yet: the first settle freezes
        frozen = gc.get_freeze_count()
        assert heap.settle() is False and gc.get_freeze_count() == frozen  # nothing new: a cheap collection
        model = long_lived(BIG)
        assert heap.settle() is True
        assert gc.get_freeze_count() >= frozen + len(model)
        assert heap.settle() is False
    """)


def test_garbage_made_after_a_freeze_is_collected_by_the_next_settle():
    _run("""
        heap.settle()
        node = Node()
        gone = weakref.ref(node)
        del node
        heap.settle()
        assert gone() is None
    """)


def test_frozen_garbage_is_kept_only_until_the_next_refreeze():
    """A torn-down deployment frozen with the heap is not leaked for good: the next refreeze
    (new long-lived state) unfreezes and collects it."""
    _run("""
        heap.settle()
        node = Node()
        gone = weakref.ref(node)
        padding = long_lived(BIG)
        assert heap.settle() is True  # node frozen along with the new state
        del node, padding
        heap.settle()
        assert gone() is not None  # still frozen: a small settle walks only the unfrozen heap
        model = long_lived(BIG)
        assert heap.settle() is True
        assert gone() is None
    """)
