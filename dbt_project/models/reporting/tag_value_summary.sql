{#- A table, not a view: it aggregates every tag of every device and subscription, and its inputs only change
    when dbt builds. Indexed for the two ways it is read: one tag (key and value), and a key's top values. -#}
{{
    config(
        materialized='table',
        indexes=[
            {'columns': ['tag_key', 'tag_value']},
            {'columns': ['tag_key', 'value_rank']},
        ],
    )
}}

with device_tags as (

    select tags.tag_key, tags.tag_value, count(*) as devices, 0 as subscriptions
    from {{ ref('device_tags') }} as tags
    inner join {{ ref('devices') }} as devices
        on devices.device_id = tags.device_id and not devices.is_removed
    group by 1, 2

),

subscription_tags as (

    select tags.tag_key, tags.tag_value, 0 as devices, count(*) as subscriptions
    from {{ ref('subscription_tags') }} as tags
    inner join {{ ref('subscriptions') }} as subscriptions
        on subscriptions.subscription_id = tags.subscription_id and not subscriptions.is_removed
    group by 1, 2

),

combined as (

    select tag_key, tag_value, sum(devices)::bigint as devices, sum(subscriptions)::bigint as subscriptions
    from (select * from device_tags union all select * from subscription_tags) as both_kinds
    group by 1, 2

),

final as (

    select
        tag_key,
        tag_value,
        devices,
        subscriptions,
        row_number() over (
            partition by tag_key order by devices + subscriptions desc, tag_value nulls last
        )::integer as value_rank

    from combined

)

select * from final
