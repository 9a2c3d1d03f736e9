{#- A table, not a view: it sums every subscription (and its device count) per month, and its inputs only
    change when dbt builds. Forecasts pick the months ahead at query time (the current month from
    subscription_coverage, for only what has not ended yet). -#}
{{ config(materialized='table', post_hook='analyze {{ this }}') }}

select
    expiry_month,
    subscription_type,
    tier,
    sku,
    count(*) as subscriptions_ending,
    coalesce(sum(quantity), 0) as licences_ending,
    coalesce(sum(used_quantity), 0) as licences_in_use,
    coalesce(sum(linked_devices), 0)::bigint as devices_affected

from {{ ref('subscription_coverage') }}
where not is_removed and ends_at is not null
group by expiry_month, subscription_type, tier, sku
