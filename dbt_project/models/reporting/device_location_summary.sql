{#- A table, not a view: it aggregates every device, and its inputs only change when dbt builds. One row
    per device type and site, so counts per country, state, city or site are a sum over a few rows. -#}
{{ config(materialized='table') }}

select
    device_type,
    location_country,
    location_state,
    location_city,
    location_id,
    location_name,
    coalesce(location_id, location_name, location_city, location_state, location_country) is not null
        as has_location,
    {{ device_counts() }}

from {{ ref('devices') }}
where not is_removed
group by 1, 2, 3, 4, 5, 6
