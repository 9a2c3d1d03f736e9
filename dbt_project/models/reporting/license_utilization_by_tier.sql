{#- A table, not a view: it sums every subscription, and its inputs only change when dbt builds. -#}
{{ config(materialized='table') }}

select
    tier,
    subscription_type,
    count(*) as subscriptions,
    coalesce(sum(quantity), 0) as total_quantity,
    coalesce(sum(used_quantity), 0) as used_quantity,
    coalesce(sum(available_quantity), 0) as available_quantity,
    round(100.0 * sum(used_quantity) / nullif(sum(quantity), 0), 1) as utilization_pct,
    coalesce(sum(linked_devices), 0)::bigint as linked_devices

from {{ ref('subscription_coverage') }}
where not is_removed and subscription_status = 'STARTED'
group by tier, subscription_type
