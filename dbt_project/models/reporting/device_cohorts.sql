{#- A table, not a view: it aggregates every device, and its inputs only change when dbt builds. Ages are
    worked out from created_month when it is read, so they stay right between builds. -#}
{{ config(materialized='table') }}

select
    device_type,
    model,
    (date_trunc('month', created_at at time zone 'UTC'))::date as created_month,
    count(*) as total_devices,
    count(*) filter (where is_assigned) as assigned_devices,
    count(*) filter (where not is_assigned) as unassigned_devices,
    count(*) filter (where is_archived) as archived_devices

from {{ ref('devices') }}
where not is_removed
group by 1, 2, 3
