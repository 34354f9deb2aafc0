"""chaos.heap: collect between measurements, freeze only new long-lived state, keep garbage bounded."""
from __future__ import annotations

import gc
import weakref

from chaos import heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def _long_lived(count: int) -> list[list[int]]:
    return [[i] for i in range(count)]  # tracked containers, like a service model's dicts


def test_a_settled_heap_is_not_frozen_again_until_new_long_lived_state_appears():
    heap.settle()  # whatever this process held before: frozen now, or small enough
    frozen = gc.get_freeze_count()
    assert frozen > 0
    assert heap.settle() is False and gc.get_freeze_count() == frozen  # nothing new: a cheap collection
    model = _long_lived(heap.REFREEZE_OBJECTS + 10_000)
    assert heap.settle() is True
    assert gc.get_freeze_count() >= frozen + len(model)
    assert heap.settle() is False


def test_garbage_made_after_a_freeze_is_collected_by_the_next_settle():
    heap.settle()
    node = _Node()
    gone = weakref.ref(node)
    del node
    heap.settle()
    assert gone() is None


def test_frozen_garbage_is_kept_only_until_the_next_refreeze():
    """A torn-down deployment frozen with the heap is not leaked for good: the next refreeze
    (new long-lived state) unfreezes and collects it."""
    node = _Node()
    gone = weakref.ref(node)
    padding = _long_lived(heap.REFREEZE_OBJECTS + 10_000)
    assert heap.settle() is True  # node frozen along with the new state
    del node, padding
    heap.settle()
    assert gone() is not None  # still frozen: a small settle walks only the unfrozen heap
    model = _long_lived(heap.REFREEZE_OBJECTS + 10_000)
    assert heap.settle() is True
    assert gone() is None
    del model
