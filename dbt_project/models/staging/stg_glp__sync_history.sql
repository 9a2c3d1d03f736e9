with source as (

    select * from {{ source('glp', 'sync_history') }}

),

renamed as (

    select
        id as sync_history_id,
        run_id,
        resource,
        mode as sync_mode,
        trigger as sync_trigger,
        status as sync_status,
        started_at,
        finished_at,
        fetched as fetched_count,
        inserted as inserted_count,
        updated as updated_count,
        removed as removed_count,
        total_reported,
        complete as is_complete,
        reconcile_passes,
        error_message,
        dagster_run_id

    from source

)

select * from renamed
