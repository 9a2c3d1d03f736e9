select
    tier,
    subscription_type,
    count(*) as subscriptions,
    coalesce(sum(quantity), 0) as total_quantity,
    coalesce(sum(used_quantity), 0) as used_quantity,
    coalesce(sum(available_quantity), 0) as available_quantity,
    round(100.0 * sum(used_quantity) / nullif(sum(quantity), 0), 1) as utilization_pct

from {{ ref('subscriptions') }}
where not is_removed and subscription_status = 'STARTED'
group by tier, subscription_type
