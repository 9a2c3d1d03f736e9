{#- A table, not a view: it counts the live devices of every subscription, and its inputs only change when
    dbt builds. Months are those from the build's month on; the query layer leaves out any that have passed
    since (`expiry_month >= this month`). -#}
{{ config(materialized='table') }}

with subscriptions as (

    select * from {{ ref('subscriptions') }}
    where not is_removed and ends_at >= date_trunc('month', now())

),

devices_per_subscription as (

    select links.subscription_id, count(distinct links.device_id) as devices
    from {{ ref('device_subscriptions') }} as links
    where not links.is_device_removed
    group by links.subscription_id

),

final as (

    select
        (date_trunc('month', subscriptions.ends_at at time zone 'UTC'))::date as expiry_month,
        count(*) as subscriptions_ending,
        coalesce(sum(subscriptions.quantity), 0) as quantity_ending,
        coalesce(sum(devices_per_subscription.devices), 0) as devices_affected

    from subscriptions
    left join devices_per_subscription
        on devices_per_subscription.subscription_id = subscriptions.subscription_id
    group by 1

)

select * from final
