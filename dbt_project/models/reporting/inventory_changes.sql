{#- A table, not a view: counting the changes of the last N days in marts would read a page of the devices
    table per change. Per UTC day here, a reader sums whole days and counts only the part-day at the start of
    its window in marts (through the updated_at / removed_at indexes), so counts stay exact between builds. -#}
{{ config(materialized='table') }}

with changes as (

    select 'devices' as kind, (updated_at at time zone 'UTC')::date as change_day, 1 as updated, 0 as removed
    from {{ ref('devices') }}
    where not is_removed and updated_at is not null

    union all

    select 'devices', (removed_at at time zone 'UTC')::date, 0, 1
    from {{ ref('devices') }}
    where is_removed and removed_at is not null

    union all

    select 'subscriptions', (updated_at at time zone 'UTC')::date, 1, 0
    from {{ ref('subscriptions') }}
    where not is_removed and updated_at is not null

    union all

    select 'subscriptions', (removed_at at time zone 'UTC')::date, 0, 1
    from {{ ref('subscriptions') }}
    where is_removed and removed_at is not null

)

select
    kind,
    change_day,
    sum(updated)::bigint as updated,
    sum(removed)::bigint as removed

from changes
group by kind, change_day
