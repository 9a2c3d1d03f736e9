with versions as (

    select * from {{ ref('subscription_history') }}

),

weeks as (

    select generate_series(
        date_trunc('week', (select min(dbt_valid_from) from versions)),
        date_trunc('week', now()),
        interval '1 week'
    ) as week_start

),

final as (

    select
        (weeks.week_start at time zone 'UTC')::date as week_start,
        count(versions.subscription_id) as subscriptions,
        coalesce(sum(versions.quantity), 0) as licences_total,
        coalesce(sum(versions.quantity - versions.available_quantity), 0) as licences_used

    from weeks
    left join versions
        on versions.dbt_valid_from < least(weeks.week_start + interval '1 week', now())
       and (versions.dbt_valid_to is null or versions.dbt_valid_to >= least(weeks.week_start + interval '1 week', now()))
       and versions.subscription_status = 'STARTED'
    group by weeks.week_start

)

select * from final
