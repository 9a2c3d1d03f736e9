with source as (

    select * from {{ source('greenlake', 'subscriptions') }}

),

renamed as (

    select
        id as subscription_id,
        key as subscription_key,
        subscription_type,
        subscription_status,
        {{ try_integer('quantity') }} as quantity,
        {{ try_integer('available_quantity') }} as available_quantity,
        sku,
        sku_description,
        {{ try_timestamptz('start_time') }} as starts_at,
        {{ try_timestamptz('end_time') }} as ends_at,
        tier,
        tier_description,
        product_type,
        is_eval,
        contract,
        quote,
        po,
        reseller_po,
        tags,
        {{ try_timestamptz('created_at') }} as created_at,
        {{ try_timestamptz('updated_at') }} as updated_at,
        type as resource_type,
        quantity as quantity_raw,
        available_quantity as available_quantity_raw,
        start_time as starts_at_raw,
        end_time as ends_at_raw,
        created_at as created_at_raw,
        updated_at as updated_at_raw,
        _glp_synced_at as last_seen_at

    from source

)

select * from renamed
