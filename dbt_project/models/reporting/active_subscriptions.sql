select
    subscription_id,
    subscription_key,
    subscription_type,
    subscription_status,
    tier,
    tier_description,
    sku,
    sku_description,
    product_type,
    is_eval,
    quantity,
    available_quantity,
    used_quantity,
    starts_at,
    ends_at,
    {{ days_remaining('ends_at') }} as days_remaining,
    tags

from {{ ref('subscriptions') }}
where not is_removed
  and subscription_status = 'STARTED'
  and (ends_at is null or ends_at >= now())
