select
    device_id,
    serial_number,
    mac_address,
    part_number,
    device_type,
    category,
    model,
    region,
    device_name,
    secondary_name,
    assigned_state,
    application_id,
    is_assigned,
    location_name,
    location_city,
    location_state,
    location_country,
    support_level,
    support_ends_at,
    subscription_count,
    tags,
    created_at,
    updated_at,
    first_seen_at

from {{ ref('devices') }}
where not is_removed and not is_archived
