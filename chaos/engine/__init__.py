"""The run engine (the shape of chaostoolkit-lib's run): one module per phase of a scenario run
(setup, steady state, method, recovery, audit, rollback), `run.py` orchestrating one scenario and
`gameday.py` a whole game day. What the scenarios are is `chaos/scenarios/`."""
