"""Game-day history: every run's results appended to one record, and the trend read back.

- `entries.py`: what one run contributes (pure: from a report.json document);
- `store.py`:   where the history lives: a local JSON Lines file, or an S3 object for staging;
- `trend.py`:   pure functions over entries: series per (scenario, workload), regressions;
- `chart.py`:   the PNG of measured RTO and RPO against targets over time.
"""
