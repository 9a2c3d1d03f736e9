{% snapshot subscription_history %}

{{
    config(
        unique_key='subscription_id',
        strategy='check',
        check_cols=['subscription_status', 'quantity', 'available_quantity', 'ends_at'],
        hard_deletes='ignore',
    )
}}

select
    subscription_id,
    subscription_status,
    quantity,
    available_quantity,
    ends_at

from {{ ref('stg_greenlake__subscriptions') }}

{% endsnapshot %}
