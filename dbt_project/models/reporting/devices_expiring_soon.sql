with devices as (

    select * from {{ ref('devices') }} where not is_removed

),

links as (

    select * from {{ ref('device_subscriptions') }}

),

subscriptions as (

    select * from {{ ref('subscriptions') }} where not is_removed

),

final as (

    select
        devices.device_id,
        devices.serial_number,
        devices.mac_address,
        devices.device_type,
        devices.model,
        devices.region,
        devices.device_name,
        devices.location_name,
        subscriptions.subscription_id,
        subscriptions.subscription_key,
        subscriptions.subscription_type,
        subscriptions.tier,
        subscriptions.subscription_status,
        subscriptions.ends_at,
        {{ days_remaining('subscriptions.ends_at') }} as days_remaining

    from devices
    inner join links on links.device_id = devices.device_id
    inner join subscriptions on subscriptions.subscription_id = links.subscription_id
    where {{ ends_within('subscriptions.ends_at', var('expiring_soon_days')) }}

)

select * from final
