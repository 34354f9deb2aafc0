"""Check an inventory against `infra/inventory.schema.json` before a game day touches anything.

A game day may be handed an inventory file from another tool version or a hand-edited one; the
first field that does not match the contract (docs/inventory.md) is reported as one line.
The validator is `jsonschema` (installed with moto[server]); see the lead's notes on pinning it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from chaos.errors import ChaosError

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "infra" / "inventory.schema.json"
# prod's inventory is ~40 KB and 8 levels deep; these leave room for a stack many times larger
# while a hostile or broken file cannot exhaust memory or Python's recursion limit.
MAX_INVENTORY_BYTES = 4 * 1024 * 1024
MAX_NESTING = 32


def nesting_depth(value: Any, limit: int) -> int:
    """Depth of nested lists/objects, counted without recursion; stops once past `limit`."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_bounded_json(text: str | bytes, what: str, *, max_bytes: int = MAX_INVENTORY_BYTES,
                       max_nesting: int = MAX_NESTING) -> Any:
    """json.loads with a size and a nesting bound; ChaosError (one line naming `what`) otherwise."""
    if len(text) > max_bytes:
        raise ChaosError(f"{what}: {len(text)} bytes, more than the {max_bytes} allowed; pass the "
                         "inventory itself (`pulumi stack output inventory --json`)")
    try:
        value = json.loads(text)
    except RecursionError:
        raise ChaosError(f"{what}: JSON nested too deeply (limit {max_nesting} levels)") from None
    except ValueError as err:
        raise ChaosError(f"{what}: not JSON ({str(err).splitlines()[0]})") from None
    if nesting_depth(value, max_nesting) > max_nesting:
        raise ChaosError(f"{what}: JSON nested more than {max_nesting} levels deep; an inventory is "
                         "about 8 (docs/inventory.md)")
    return value


def validate_inventory(inventory: Any, source: str) -> None:
    """ChaosError naming the first offending field of `inventory` (read from `source`)."""
    if nesting_depth(inventory, MAX_NESTING) > MAX_NESTING:
        raise ChaosError(f"inventory: nested more than {MAX_NESTING} levels deep (in {source}); an "
                         "inventory is about 8 (docs/inventory.md)")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    error = best_match(Draft202012Validator(schema).iter_errors(inventory))
    if error is None:
        return
    where = ".".join(["inventory", *(str(part) for part in error.absolute_path)])
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    raise ChaosError(f"{where}: {message} (in {source}); re-export it with "
                     "`pulumi stack output inventory --json` (docs/inventory.md)")
