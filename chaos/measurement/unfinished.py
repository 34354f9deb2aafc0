"""A run whose process was killed: run.json still says `running`, and no event says how it ended.

The harness records a `run_stopped` event and completes run.json whenever it can (a signal, a
dead lab). A SIGKILL, the OOM killer or a host crash leaves neither. Such a run is ABORTED: the
scenario the journal was in when it ends (no `scenario_ended` for it) stopped at its last event.
Pure: the caller has checked that the run's process is really gone.
"""
from __future__ import annotations

from dataclasses import replace

from chaos.errors import EXIT_TOOL_ERROR
from chaos.journal import ABORTED, RECOVERED, RUN_STOPPED, RUNNING, SCENARIO_ENDED, Event, RunRecord

KILLED_REASON = "the game-day process was killed before the run ended (run.json still `running`)"


def settle_unfinished(run: RunRecord, events: list[Event]) -> tuple[RunRecord, list[Event]]:
    """`(run, events)` as they would read had the run recorded its own abort; unchanged for a
    run that recorded how it ended."""
    if run.status != RUNNING:
        return run, events
    # `chaos recover` appends its own events afterwards: they say nothing of when the run died.
    run_events = [e for e in events if e.kind != RECOVERED]
    last = max(run_events, key=lambda e: e.t, default=None)
    run = replace(run, status=ABORTED, stop_reason=KILLED_REASON, exit_code=EXIT_TOOL_ERROR,
                  ended_at=last.t if last else run.started_at)
    if last is None or any(e.kind in (SCENARIO_ENDED, RUN_STOPPED) and e.scenario == last.scenario
                           for e in run_events):
        return run, events
    stop = Event(t=last.t, kind=RUN_STOPPED, scenario=last.scenario, workload=None,
                 data={"status": ABORTED, "reason": KILLED_REASON, "exit_code": EXIT_TOOL_ERROR})
    return run, [*events, stop]
