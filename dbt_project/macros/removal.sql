{#- Removal, as the sync records it: a full sync sees every live object, so an object whose last sighting is
    older than the newest successful full sync of its resource is gone from GreenLake. It was removed at the
    first successful full sync after its last sighting.

    Written as a range join on the windows between consecutive full syncs (not a correlated subquery, and
    with the CTEs inlined) so that PostgreSQL can compute the marts with parallel workers. -#}

{% macro full_syncs_ctes(resource) -%}
full_syncs as not materialized (

    select started_at
    from {{ ref('stg_glp__sync_history') }}
    where resource = '{{ resource }}' and sync_mode = 'full' and sync_status = 'success'

),

last_full as not materialized (

    select max(started_at) as started_at from full_syncs

),

full_sync_windows as not materialized (

    select
        coalesce(lag(started_at) over (order by started_at), '-infinity'::timestamptz) as seen_from,
        started_at as removed_at
    from full_syncs

)
{%- endmacro %}

{#- The removal columns of `alias` (which has last_seen_at), given a left join of full_sync_windows as `removal`. -#}
{% macro removal_columns() -%}
    removal.removed_at is not null as is_removed,
    removal.removed_at
{%- endmacro %}

{% macro removal_join(alias) -%}
    left join full_sync_windows as removal
        on {{ alias }}.last_seen_at >= removal.seen_from and {{ alias }}.last_seen_at < removal.removed_at
{%- endmacro %}

{#- The staged objects an incremental build of a mart must (re)write: those new to the mart, those GreenLake
    changed (their raw updatedAt differs from the stored one) and those whose removal state changed (gone at
    the last successful full sync, or back). Everything else is left as it is, so the build after a full sync,
    which re-reads every object, costs no more than the one after an incremental sync. Needs `last_full`
    (from full_syncs_ctes) and a mart with `raw` and `is_removed`. Without an existing table: all objects. -#}
{% macro changed_objects(staged, key) -%}
    select staged.*
    from {{ staged }} as staged
    {% if is_incremental() %}
    left join {{ this }} as stored on stored.{{ key }} = staged.{{ key }}
    where stored.{{ key }} is null
       or staged.updated_at_raw is distinct from stored.raw ->> 'updatedAt'
       or coalesce(staged.last_seen_at < (select started_at from last_full), false) <> stored.is_removed
    {% endif %}
{%- endmacro %}
