{{ config(meta={'glp_indexes': [{'columns': ['device_id']}, {'columns': ['tag_key', 'tag_value']}]}) }}

with devices as (

    select device_id, tags from {{ ref('stg_greenlake__devices') }}
    where jsonb_typeof(tags) = 'object'

),

final as (

    select
        devices.device_id,
        tag.key as tag_key,
        tag.value as tag_value

    from devices
    cross join lateral jsonb_each_text(devices.tags) as tag (key, value)

)

select * from final
