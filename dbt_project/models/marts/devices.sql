{#- Incremental: a build rewrites only the devices that are new, changed in GreenLake, or newly removed or
    back (see changed_objects); `glp transform --full-refresh` rebuilds the table.
    New columns are added to an existing table; a column a new version drops stays (unfilled) until then. -#}
{{
    config(
        materialized='incremental',
        unique_key='device_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        meta={'glp_indexes': [
            {'columns': ['device_id'], 'unique': true},
            {'columns': ['serial_number']},
            {'columns': ['search_vector'], 'type': 'gin'},
            {'columns': ['device_type', 'serial_number']},
            {'columns': ['region', 'serial_number']},
            {'columns': ['application_id']},
            {'columns': ['removed_at']},
            {'columns': ['updated_at']},
            {'columns': ['is_assigned', 'serial_number']},
        ]},
    )
}}

with {{ full_syncs_ctes('devices') }},

devices as (

    {{ changed_objects(ref('stg_greenlake__devices'), 'device_id') }}

),

first_seen as (

    select device_id, min(dbt_valid_from) as first_seen_at
    from {{ ref('device_assignment_history') }}
    group by device_id

),

final as (

    select
        devices.device_id,
        devices.serial_number,
        {{ normalize_mac('devices.mac_address') }} as mac_address,
        devices.part_number,
        devices.device_type,
        devices.category,
        devices.model,
        devices.region,
        devices.device_name,
        devices.secondary_name,
        devices.assigned_state,
        coalesce(devices.is_archived, false) as is_archived,
        devices.application_id,
        devices.application_id is not null as is_assigned,
        devices.location_id,
        devices.location_name,
        devices.location_street_address,
        devices.location_city,
        devices.location_state,
        devices.location_postal_code,
        devices.location_country,
        devices.location_latitude,
        devices.location_longitude,
        devices.location_source,
        devices.support_level,
        devices.support_contract_level,
        devices.support_starts_at,
        devices.support_ends_at,
        devices.warranty_country,
        devices.dedicated_platform_workspace_id,
        devices.tenant_workspace_id,
        devices.in_use_workspace_id,
        devices.management,
        devices.ownership,
        devices.device_source,
        devices.make,
        devices.manufactured_at,
        devices.is_flex,
        devices.billing_account_id,
        devices.billing_account_name,
        devices.billing_tier,
        devices.subscription_category,
        devices.contact_type,
        devices.contact_email,
        case when jsonb_typeof(devices.subscriptions) = 'array'
            then jsonb_array_length(devices.subscriptions) else 0 end as subscription_count,
        coalesce(devices.tags, '{}'::jsonb) as tags,
        devices.created_at,
        devices.updated_at,
        least(first_seen.first_seen_at, devices.last_seen_at) as first_seen_at,
        {{ removal_columns() }},
        jsonb_build_object(
            'id', devices.device_id,
            'type', devices.resource_type,
            'serialNumber', devices.serial_number,
            'partNumber', devices.part_number,
            'macAddress', devices.mac_address,
            'deviceType', devices.device_type,
            'category', devices.category,
            'model', devices.model,
            'region', devices.region,
            'deviceName', devices.device_name,
            'secondaryName', devices.secondary_name,
            'assignedState', devices.assigned_state,
            'archived', devices.is_archived,
            'application', devices.application,
            'subscription', devices.subscriptions,
            'tags', devices.tags,
            'location', devices.location,
            'dedicatedPlatformWorkspace', devices.dedicated_platform_workspace,
            'tenantWorkspaceId', devices.tenant_workspace_id,
            'inUseWorkspace', devices.in_use_workspace,
            'management', devices.management,
            'ownership', devices.ownership,
            'source', devices.device_source,
            'make', devices.make,
            'manufacturedDate', devices.manufactured_at_raw,
            'isFlex', devices.is_flex,
            'billingAccountId', devices.billing_account_id,
            'billingAccountName', devices.billing_account_name,
            'billingTier', devices.billing_tier,
            'subscriptionCategory', devices.subscription_category,
            'warranty', devices.warranty,
            'contact', devices.contact,
            'createdAt', devices.created_at_raw,
            'updatedAt', devices.updated_at_raw
        ) as raw,
        setweight(to_tsvector('simple', concat_ws(' ', devices.serial_number, devices.device_name,
            devices.secondary_name)), 'A')
        || setweight(to_tsvector('simple', concat_ws(' ', devices.mac_address,
            regexp_replace(upper(devices.mac_address), '[^0-9A-F]', '', 'g'), devices.model,
            devices.part_number)), 'B')
        || setweight(to_tsvector('simple', concat_ws(' ', devices.device_type, devices.region,
            devices.location_name, devices.location_city, devices.location_state,
            devices.location_country)), 'C') as search_vector

    from devices
    {{ removal_join('devices') }}
    left join first_seen on first_seen.device_id = devices.device_id

)

select * from final
