"""The DR envelope: what AWS can deliver, per workload and scenario, from what the stack provisions.

* `figures`: the table of AWS timing figures (source URL, date read, typical and worst).
* `worst_case`: pure functions from a workload's config to its worst-case RTO/RPO per scenario,
  each a sum of named terms.
"""

from infra.envelope.figures import FIGURES, Figure, figure, typical, worst

__all__ = ["FIGURES", "Figure", "figure", "typical", "worst"]
