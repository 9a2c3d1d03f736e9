{#- A table, not a view: it aggregates every device, and its inputs only change when dbt builds. Ages are
    worked out from created_month when it is read, so they stay right between builds. -#}
{{ config(materialized='table') }}

select
    device_type,
    model,
    (date_trunc('month', created_at at time zone 'UTC'))::date as created_month,
    {{ device_counts() }}

from {{ ref('devices') }}
where not is_removed
group by 1, 2, 3
