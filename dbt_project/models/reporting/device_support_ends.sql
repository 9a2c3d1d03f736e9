{#- A table, not a view: it aggregates every device, and its inputs only change when dbt builds. It keeps
    the day support ends (not "ended" or "ends soon"), so windows relative to today are counted when it is
    read and stay right between builds. -#}
{{ config(materialized='table') }}

select
    device_type,
    model,
    (support_ends_at at time zone 'UTC')::date as support_ends_on,
    count(*) as total_devices

from {{ ref('devices') }}
where not is_removed
group by 1, 2, 3
