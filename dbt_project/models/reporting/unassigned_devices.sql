select
    device_id,
    serial_number,
    mac_address,
    part_number,
    device_type,
    model,
    assigned_state,
    location_name,
    subscription_count,
    created_at,
    first_seen_at

from {{ ref('devices') }}
where not is_removed and not is_archived and application_id is null
