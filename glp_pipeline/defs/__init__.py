"""Dagster orchestration of GLP Sync: `glp_pipeline.defs.definitions:defs` is the code location.

- `ingest`: the GreenLake sync (our `run_sync`, presented as dlt assets) and its asset checks;
- `dbt`: the dbt project (staging, snapshots, marts, reporting) with its tests as asset checks;
- `schedules`: the incremental and full sync jobs and their schedules;
- `sensors`: failure recording and alerting, and subscription expiry alerts (`alerts` posts the messages).
"""
