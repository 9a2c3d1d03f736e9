{{
    config(
        meta={'glp_indexes': [
            {'columns': ['device_id']},
            {'columns': ['subscription_id']},
        ]},
    )
}}

with devices as (

    select device_id, subscriptions from {{ ref('stg_greenlake__devices') }}
    where jsonb_typeof(subscriptions) = 'array'

),

subscriptions as (

    select subscription_id from {{ ref('stg_greenlake__subscriptions') }}

),

removed_devices as (

    select device_id from {{ ref('devices') }} where is_removed

),

links as (

    select
        devices.device_id,
        link.value ->> 'id' as subscription_id,
        link.value ->> 'key' as subscription_key,
        link.value ->> 'tier' as subscription_tier,
        {{ try_timestamptz("coalesce(link.value ->> 'startTime', link.value ->> 'startDate')") }} as starts_at,
        {{ try_timestamptz("coalesce(link.value ->> 'endTime', link.value ->> 'endDate')") }} as ends_at,
        link.ordinality::integer as link_position

    from devices
    cross join lateral jsonb_array_elements(devices.subscriptions) with ordinality as link (value, ordinality)
    where jsonb_typeof(link.value) = 'object'

),

final as (

    select
        links.device_id,
        links.subscription_id,
        links.subscription_key,
        links.subscription_tier,
        links.starts_at,
        links.ends_at,
        subscriptions.subscription_id is not null as is_known_subscription,
        links.link_position,
        removed_devices.device_id is not null as is_device_removed

    from links
    left join subscriptions on subscriptions.subscription_id = links.subscription_id
    left join removed_devices on removed_devices.device_id = links.device_id

)

select * from final
