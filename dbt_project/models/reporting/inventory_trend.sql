{#- A table, not a view: it aggregates every device, and its inputs only change when dbt builds (so the
    current week is the one of the last build). -#}
{{ config(materialized='table') }}

with devices as (

    select first_seen_at, removed_at from {{ ref('devices') }}

),

weeks as (

    select generate_series(
        date_trunc('week', (select min(first_seen_at) from devices)),
        date_trunc('week', now()),
        interval '1 week'
    ) as week_start

),

final as (

    select
        (weeks.week_start at time zone 'UTC')::date as week_start,
        count(*) filter (
            where devices.first_seen_at >= weeks.week_start
              and devices.first_seen_at < weeks.week_start + interval '1 week'
        ) as devices_added,
        count(*) filter (
            where devices.removed_at >= weeks.week_start
              and devices.removed_at < weeks.week_start + interval '1 week'
        ) as devices_removed,
        count(*) filter (
            where devices.first_seen_at < weeks.week_start + interval '1 week'
              and (devices.removed_at is null or devices.removed_at >= weeks.week_start + interval '1 week')
        ) as devices_at_week_end

    from weeks
    cross join devices
    group by weeks.week_start

)

select * from final
