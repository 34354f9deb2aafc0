"""The scenario catalogue: what each scenario injects, to which workloads it applies (and why it
skips the others), how the failure is detected and which runbook recovers. The engine that runs
them is `chaos/engine/`."""
