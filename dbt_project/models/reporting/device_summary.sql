{#- A table, not a view: it aggregates every device, and its inputs only change when dbt builds. -#}
{{ config(materialized='table') }}

select
    device_type,
    region,
    count(*) as total_devices,
    count(*) filter (where is_assigned) as assigned_devices,
    count(*) filter (where not is_assigned) as unassigned_devices,
    count(*) filter (where is_archived) as archived_devices

from {{ ref('devices') }}
where not is_removed
group by device_type, region
