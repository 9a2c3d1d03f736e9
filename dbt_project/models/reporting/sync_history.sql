select
    run_id,
    resource,
    sync_mode,
    sync_trigger,
    sync_status,
    started_at,
    finished_at,
    extract(epoch from finished_at - started_at)::numeric(12, 1) as duration_seconds,
    fetched_count,
    inserted_count,
    updated_count,
    removed_count,
    total_reported,
    is_complete,
    error_message,
    dagster_run_id

from {{ ref('stg_glp__sync_history') }}
