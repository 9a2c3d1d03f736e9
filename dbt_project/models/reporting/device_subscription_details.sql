{#- A view, not a table: it is read one device (or subscription) at a time, through the device_id index of
    device_subscriptions and the subscription_id index of subscriptions, so it never reads every link. -#}
with links as (

    select * from {{ ref('device_subscriptions') }}

),

subscriptions as (

    select * from {{ ref('subscriptions') }}

),

final as (

    select
        links.device_id,
        links.subscription_id,
        coalesce(subscriptions.subscription_key, links.subscription_key) as subscription_key,
        coalesce(subscriptions.tier, links.subscription_tier) as tier,
        subscriptions.tier_description,
        subscriptions.subscription_type,
        subscriptions.subscription_status,
        subscriptions.sku,
        subscriptions.quantity,
        subscriptions.used_quantity,
        subscriptions.available_quantity,
        coalesce(subscriptions.starts_at, links.starts_at) as starts_at,
        coalesce(subscriptions.ends_at, links.ends_at) as ends_at,
        {{ days_remaining('coalesce(subscriptions.ends_at, links.ends_at)') }} as days_remaining,
        subscriptions.subscription_id is not null as is_known_subscription,
        coalesce(subscriptions.is_removed, false) as is_subscription_removed,
        links.link_position,
        links.is_device_removed

    from links
    left join subscriptions on subscriptions.subscription_id = links.subscription_id

)

select * from final
