{% snapshot device_assignment_history %}

{{
    config(
        unique_key='device_id',
        strategy='check',
        check_cols=['application_id', 'region', 'assigned_state', 'is_archived', 'subscriptions', 'tags'],
        hard_deletes='ignore',
    )
}}

select
    device_id,
    application_id,
    region,
    assigned_state,
    is_archived,
    subscriptions,
    tags

from {{ ref('stg_greenlake__devices') }}

{% endsnapshot %}
