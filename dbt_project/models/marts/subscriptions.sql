{#- Incremental: a build rewrites only the subscriptions that are new, changed in GreenLake, or newly removed
    or back (see changed_objects); `glp transform --full-refresh` rebuilds the table.
    New columns are added to an existing table; a column a new version drops stays (unfilled) until then. -#}
{{
    config(
        materialized='incremental',
        unique_key='subscription_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        meta={'glp_indexes': [
            {'columns': ['subscription_id'], 'unique': true},
            {'columns': ['subscription_key']},
            {'columns': ['ends_at']},
            {'columns': ['tier']},
            {'columns': ['subscription_type']},
            {'columns': ['subscription_status']},
            {'columns': ['search_vector'], 'type': 'gin'},
            {'columns': ['updated_at']},
            {'columns': ['removed_at']},
        ]},
    )
}}

with {{ full_syncs_ctes('subscriptions') }},

subscriptions as (

    {{ changed_objects(ref('stg_greenlake__subscriptions'), 'subscription_id') }}

),

first_seen as (

    select subscription_id, min(dbt_valid_from) as first_seen_at
    from {{ ref('subscription_history') }}
    group by subscription_id

),

final as (

    select
        subscriptions.subscription_id,
        subscriptions.subscription_key,
        subscriptions.subscription_type,
        subscriptions.subscription_status,
        subscriptions.quantity,
        subscriptions.available_quantity,
        subscriptions.quantity - subscriptions.available_quantity as used_quantity,
        subscriptions.sku,
        subscriptions.sku_description,
        subscriptions.tier,
        subscriptions.tier_description,
        subscriptions.product_type,
        coalesce(subscriptions.is_eval, false) as is_eval,
        subscriptions.starts_at,
        subscriptions.ends_at,
        subscriptions.contract,
        subscriptions.quote,
        subscriptions.po,
        subscriptions.reseller_po,
        coalesce(subscriptions.tags, '{}'::jsonb) as tags,
        subscriptions.created_at,
        subscriptions.updated_at,
        least(first_seen.first_seen_at, subscriptions.last_seen_at) as first_seen_at,
        {{ removal_columns() }},
        jsonb_build_object(
            'id', subscriptions.subscription_id,
            'type', subscriptions.resource_type,
            'key', subscriptions.subscription_key,
            'subscriptionType', subscriptions.subscription_type,
            'subscriptionStatus', subscriptions.subscription_status,
            'quantity', subscriptions.quantity_raw,
            'availableQuantity', subscriptions.available_quantity_raw,
            'sku', subscriptions.sku,
            'skuDescription', subscriptions.sku_description,
            'startTime', subscriptions.starts_at_raw,
            'endTime', subscriptions.ends_at_raw,
            'tier', subscriptions.tier,
            'tierDescription', subscriptions.tier_description,
            'productType', subscriptions.product_type,
            'isEval', subscriptions.is_eval,
            'contract', subscriptions.contract,
            'quote', subscriptions.quote,
            'po', subscriptions.po,
            'resellerPo', subscriptions.reseller_po,
            'tags', subscriptions.tags,
            'createdAt', subscriptions.created_at_raw,
            'updatedAt', subscriptions.updated_at_raw
        ) as raw,
        setweight(to_tsvector('simple', coalesce(subscriptions.subscription_key, '')), 'A')
        || setweight(to_tsvector('simple', coalesce(subscriptions.sku, '')), 'B')
        || setweight(to_tsvector('simple', coalesce(subscriptions.sku_description, '')), 'C')
        || setweight(to_tsvector('simple', concat_ws(' ', subscriptions.tier, subscriptions.tier_description,
            subscriptions.subscription_type)), 'D') as search_vector

    from subscriptions
    {{ removal_join('subscriptions') }}
    left join first_seen on first_seen.subscription_id = subscriptions.subscription_id

)

select * from final
