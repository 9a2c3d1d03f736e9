select
    subscription_id,
    subscription_key,
    subscription_type,
    tier,
    subscription_status,
    quantity,
    used_quantity,
    available_quantity,
    utilization_pct,
    linked_devices,
    ends_at,
    {{ days_remaining('ends_at') }} as days_remaining

from {{ ref('subscription_coverage') }}
where not is_removed
