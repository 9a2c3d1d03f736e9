{{
    config(
        meta={'indexes': [
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
        links.link_position

    from links
    left join subscriptions on subscriptions.subscription_id = links.subscription_id

)

select * from final
