select
    subscription_type,
    subscription_status,
    count(*) as subscriptions,
    coalesce(sum(quantity), 0) as total_quantity,
    coalesce(sum(available_quantity), 0) as available_quantity,
    coalesce(sum(used_quantity), 0) as used_quantity

from {{ ref('subscriptions') }}
where not is_removed
group by subscription_type, subscription_status
