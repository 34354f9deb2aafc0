"""Real PostgreSQL behind the lab's RDS API: see `dataplane.PostgresDataPlane` and docs/postgres-lab.md."""
