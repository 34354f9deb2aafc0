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


def validate_inventory(inventory: Any, source: str) -> None:
    """ChaosError naming the first offending field of `inventory` (read from `source`)."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    error = best_match(Draft202012Validator(schema).iter_errors(inventory))
    if error is None:
        return
    where = ".".join(["inventory", *(str(part) for part in error.absolute_path)])
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    raise ChaosError(f"{where}: {message} (in {source}); re-export it with "
                     "`pulumi stack output inventory --json` (docs/inventory.md)")
