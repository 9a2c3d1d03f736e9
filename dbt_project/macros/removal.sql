{#- Removal, as the sync records it: a full sync sees every live object, so an object whose last sighting is
    older than the newest successful full sync of its resource is gone from GreenLake. It was removed at the
    first successful full sync after its last sighting. -#}

{% macro removal_columns(resource, alias) -%}
    coalesce({{ alias }}.last_seen_at < last_full.started_at, false) as is_removed,
    case when {{ alias }}.last_seen_at < last_full.started_at then (
        select min(f.started_at)
        from full_syncs as f
        where f.started_at > {{ alias }}.last_seen_at
    ) end as removed_at
{%- endmacro %}

{% macro full_syncs_ctes(resource) -%}
full_syncs as (

    select started_at
    from {{ ref('stg_glp__sync_history') }}
    where resource = '{{ resource }}' and sync_mode = 'full' and sync_status = 'success'

),

last_full as (

    select max(started_at) as started_at from full_syncs

)
{%- endmacro %}
