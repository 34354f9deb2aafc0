"""Write every requested report of a run into one directory: the one call the engine and CLI make."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from chaos.errors import ChaosError
from chaos.journal import Event, RunRecord
from chaos.measurement.results import ScenarioResult
from chaos.reports.json_report import write_json
from chaos.reports.junit import write_junit
from chaos.reports.markdown import write_markdown
from chaos.reports.timeline import write_timelines

FORMATS = ("json", "md", "junit", "png")


def parse_formats(text: str) -> tuple[str, ...]:
    """`"json,md"` -> ("json", "md"); an unknown name is a one-line ChaosError."""
    asked = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in asked if name not in FORMATS]
    if unknown or not asked:
        raise ChaosError(
            f"--format: unknown format {', '.join(unknown) or '(empty)'}; choose among {','.join(FORMATS)}"
        )
    return asked


def write_reports(
    out_dir: str | Path,
    run: RunRecord,
    events: Iterable[Event],
    results: list[ScenarioResult],
    formats: Iterable[str] = FORMATS,
) -> list[Path]:
    """report.json, report.md, junit.xml and timeline-<scenario>.png (as asked); returns the paths."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ChaosError(f"--out: cannot create {out_dir} ({err.strerror}); pass a writable directory") from None
    formats = tuple(formats)
    written: list[Path] = []
    if "json" in formats:
        written.append(write_json(out_dir / "report.json", run, results))
    if "md" in formats:
        written.append(write_markdown(out_dir / "report.md", run, results))
    if "junit" in formats:
        written.append(write_junit(out_dir / "junit.xml", run, results))
    if "png" in formats:
        written.extend(write_timelines(out_dir, events, results))
    return written
