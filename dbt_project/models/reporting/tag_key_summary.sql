{#- A table, not a view: it sums tag_value_summary per key once per build, so listing keys never reads one
    row per value (a key such as an asset number can have as many values as there are devices). A device or
    subscription has at most one value per key, so the sums count each of them once. -#}
{{ config(materialized='table') }}

select
    tag_key,
    sum(devices)::bigint as devices,
    sum(subscriptions)::bigint as subscriptions,
    count(*) as distinct_values

from {{ ref('tag_value_summary') }}
group by tag_key
