"""What a stack's backup, retention and replication rules cost (`python -m infra.cost`).

- `schedule.py`  which days an AWS cron/rate expression fires on;
- `engine.py`    the day-by-day mechanics: recovery-point chains, S3 cohorts under a lifecycle,
                 retention windows, minimum storage durations (pure, no prices);
- `workloads.py` each workload's declared resources -> what they keep, day by day;
- `prices.py`    the price table, each figure with its source page and the date read;
- `estimate.py`  ledgers -> monthly cost per mechanism, lifecycle saving, budgets, what-if;
- `chart.py`     the what-if PNG (cost against RPO).
"""
