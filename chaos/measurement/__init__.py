"""Pure functions over a run's journal: RTO and its phases, RPO and lost writes, verdicts.

No I/O and no clock: the same events always give the same results, so every function is tested
with hand-made event lists. Entry point: `measure(events, targets)`.
"""
from chaos.measurement.measure import measure, measure_timeline
from chaos.measurement.results import Marks, ScenarioResult
from chaos.measurement.verdict import Summary, exit_code, summarize

__all__ = ["Marks", "ScenarioResult", "Summary", "exit_code", "measure", "measure_timeline", "summarize"]
