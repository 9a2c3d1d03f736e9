{#- A table, not a view: counting the live devices of every subscription reads every device link (100k+),
    and its inputs only change when dbt builds. Time-relative columns (days remaining) are left to the views
    and queries over it. Indexes through dbt's `indexes` config, not `meta.glp_indexes`: dbt builds this
    table anew each time and names these uniquely, while stable names would collide with the previous
    table's until dbt drops it after the build. Utilisation has an index per direction, so that a page of
    the least or the most used subscriptions reads a page of the index, not every row. -#}
{{
    config(
        materialized='table',
        indexes=[
            {'columns': ['subscription_id'], 'unique': true},
            {'columns': ['subscription_key']},
            {'columns': ['ends_at']},
            {'columns': ['utilization_pct', 'subscription_id']},
            {'columns': ['utilization_pct desc nulls last', 'subscription_id']},
        ],
        post_hook='analyze {{ this }}',
    )
}}

with subscriptions as (

    select * from {{ ref('subscriptions') }}

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
        subscriptions.subscription_status,
        subscriptions.tier,
        subscriptions.sku,
        subscriptions.is_eval,
        subscriptions.quantity,
        subscriptions.used_quantity,
        subscriptions.available_quantity,
        round(100.0 * subscriptions.used_quantity / nullif(subscriptions.quantity, 0), 1) as utilization_pct,
        coalesce(linked.linked_devices, 0) as linked_devices,
        subscriptions.starts_at,
        subscriptions.ends_at,
        (date_trunc('month', subscriptions.ends_at at time zone 'UTC'))::date as expiry_month,
        subscriptions.is_removed

    from subscriptions
    left join linked on linked.subscription_id = subscriptions.subscription_id

)

select * from final
