with source as (

    select * from {{ source('greenlake', 'devices') }}

),

renamed as (

    select
        id as device_id,
        serial_number,
        part_number,
        mac_address,
        device_type,
        category,
        model,
        region,
        device_name,
        secondary_name,
        assigned_state,
        archived as is_archived,
        application ->> 'id' as application_id,
        application ->> 'resourceUri' as application_resource_uri,
        location ->> 'id' as location_id,
        location ->> 'locationName' as location_name,
        location ->> 'streetAddress' as location_street_address,
        location ->> 'city' as location_city,
        location ->> 'state' as location_state,
        location ->> 'postalCode' as location_postal_code,
        location ->> 'country' as location_country,
        {{ try_double("location -> 'latitude'") }} as location_latitude,
        {{ try_double("location -> 'longitude'") }} as location_longitude,
        location ->> 'locationSource' as location_source,
        warranty ->> 'country' as warranty_country,
        warranty -> 'currentSupportLevel' ->> 'serviceLevel' as support_level,
        warranty -> 'currentSupportLevel' ->> 'contractLevel' as support_contract_level,
        {{ try_timestamptz("warranty -> 'currentSupportLevel' ->> 'startDate'") }} as support_starts_at,
        {{ try_timestamptz("warranty -> 'currentSupportLevel' ->> 'endDate'") }} as support_ends_at,
        dedicated_platform_workspace ->> 'id' as dedicated_platform_workspace_id,
        tenant_workspace_id,
        in_use_workspace ->> 'id' as in_use_workspace_id,
        management,
        ownership,
        source as device_source,
        make,
        {{ try_timestamptz('manufactured_date') }} as manufactured_at,
        is_flex,
        billing_account_id,
        billing_account_name,
        billing_tier,
        subscription_category,
        contact ->> 'type' as contact_type,
        coalesce(contact ->> 'email', contact -> 'nonWorkspaceUser' ->> 'email') as contact_email,
        {{ try_timestamptz('created_at') }} as created_at,
        {{ try_timestamptz('updated_at') }} as updated_at,
        subscription as subscriptions,
        tags,
        application,
        location,
        warranty,
        contact,
        dedicated_platform_workspace,
        in_use_workspace,
        type as resource_type,
        created_at as created_at_raw,
        updated_at as updated_at_raw,
        manufactured_date as manufactured_at_raw,
        _glp_synced_at as last_seen_at

    from source

)

select * from renamed
