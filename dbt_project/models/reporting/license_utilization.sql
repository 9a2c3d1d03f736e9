with subscriptions as (

    select * from {{ ref('subscriptions') }} where not is_removed

),

linked as (

    select links.subscription_id, count(distinct links.device_id) as linked_devices
    from {{ ref('device_subscriptions') }} as links
    where not links.is_device_removed
    group by links.subscription_id

),

final as (

    select
        subscriptions.subscription_id,
        subscriptions.subscription_key,
        subscriptions.subscription_type,
        subscriptions.tier,
        subscriptions.subscription_status,
        subscriptions.quantity,
        subscriptions.used_quantity,
        subscriptions.available_quantity,
        round(100.0 * subscriptions.used_quantity / nullif(subscriptions.quantity, 0), 1) as utilization_pct,
        coalesce(linked.linked_devices, 0) as linked_devices,
        subscriptions.ends_at,
        {{ days_remaining('subscriptions.ends_at') }} as days_remaining

    from subscriptions
    left join linked on linked.subscription_id = subscriptions.subscription_id

)

select * from final
