select
    subscription_id,
    subscription_key,
    subscription_type,
    subscription_status,
    tier,
    sku,
    is_eval,
    quantity,
    available_quantity,
    used_quantity,
    ends_at,
    {{ days_remaining('ends_at') }} as days_remaining

from {{ ref('subscriptions') }}
where not is_removed
  and {{ ends_within('ends_at', var('expiring_soon_days')) }}
