select
    device_id,
    application_id,
    region,
    assigned_state,
    is_archived,
    subscriptions,
    tags,
    dbt_valid_from as valid_from,
    dbt_valid_to as valid_to,
    dbt_valid_to is null as is_current

from {{ ref('device_assignment_history') }}
