"""The DR envelope: what AWS can deliver, per workload and scenario, from what the stack provisions.

* `figures`: the table of AWS timing figures (source URL, date read, typical and worst; estimates
  labelled) that every envelope, default target, alarm and lab delay reads.
* `worst_case`: pure functions from a `Provision` to the worst-case RTO/RPO of every scenario the
  strategy covers, each a sum of named terms.
* `provision`: the validated stack config -> `Provision`, and the inventory's `envelope` document.

docs/envelope.md explains the computation; `python -m chaos plan --stack <stack>` prints it.
"""

from infra.envelope.figures import FIGURES, Figure, figure, typical, worst

__all__ = ["FIGURES", "Figure", "figure", "typical", "worst"]
