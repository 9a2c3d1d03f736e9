{{ config(meta={'glp_indexes': [{'columns': ['subscription_id']}, {'columns': ['tag_key', 'tag_value']}]}) }}

with subscriptions as (

    select subscription_id, tags from {{ ref('stg_greenlake__subscriptions') }}
    where jsonb_typeof(tags) = 'object'

),

final as (

    select
        subscriptions.subscription_id,
        tag.key as tag_key,
        tag.value as tag_value

    from subscriptions
    cross join lateral jsonb_each_text(subscriptions.tags) as tag (key, value)

)

select * from final
