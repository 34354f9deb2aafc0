"""report.json: the machine-readable report CI jobs and dashboards read."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chaos.journal import RunRecord
from chaos.measurement.results import ScenarioResult
from chaos.measurement.verdict import summarize

REPORT_VERSION = 1


def build_report(run: RunRecord, results: list[ScenarioResult]) -> dict[str, Any]:
    """`{"run", "results", "skipped", "summary"}`: measured results apart from not-applicable pairs."""
    summary = summarize(results, run)
    return {
        "report_version": REPORT_VERSION,
        "run": run.to_dict(),
        "results": [r.to_dict() for r in results if not r.skipped],
        "skipped": [
            {
                "scenario": r.scenario,
                "workload": r.workload,
                "strategy": r.strategy,
                "kind": r.kind,
                "reason": r.skip_reason,
            }
            for r in results
            if r.skipped
        ],
        "summary": {
            "passed": summary.passed,
            "failed": summary.failed,
            "skipped": summary.skipped,
            "exit_code": summary.exit_code,
            "verdict": summary.verdict,
            "stopped": summary.stopped,
            "stop_reason": summary.stop_reason,
            "unfinished": summary.unfinished,
        },
    }


def write_json(path: str | Path, run: RunRecord, results: list[ScenarioResult]) -> Path:
    path = Path(path)
    path.write_text(json.dumps(build_report(run, results), indent=2) + "\n", encoding="utf-8")
    return path
