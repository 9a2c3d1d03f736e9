{#- A table, not a view: it aggregates every device, and its inputs only change when dbt builds. -#}
{{ config(materialized='table') }}

select
    device_type,
    region,
    {{ device_counts() }}

from {{ ref('devices') }}
where not is_removed
group by device_type, region
