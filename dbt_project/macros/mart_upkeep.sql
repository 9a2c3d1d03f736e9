{#- Post-hook of every mart table: its indexes, then fresh planner statistics.

    A mart lists its indexes in `meta.glp_indexes` (dicts like dbt's `indexes` config: columns, unique, type)
    rather than in dbt's own `indexes` config, because dbt names those with a timestamp and creates them only
    when it creates the table: an index added in a later version would never reach an existing incremental
    table, and re-creating them would pile up duplicates. Here each index has a stable name
    (`<table>__<columns>`), so `if not exists` makes the hook a cheap no-op once they are there; indexes an
    earlier version made through dbt's config (hash-named) are dropped.

    Then ANALYZE, when the table has no statistics yet (built afresh) or more than a tenth of its rows changed
    since the last: the planner knows the new rows' distribution at once rather than whenever autovacuum gets
    round to it (without it, searches on a freshly built 100k-device table misjudge every filter). The usual
    incremental build changes a few rows and skips it (about a second for 100k devices). -#}
{% macro mart_upkeep() -%}
    {%- for index in model.config.get('meta', {}).get('glp_indexes', []) -%}
        {%- set columns = index['columns'] -%}
        {%- set name = (this.identifier ~ '__' ~ columns | join('__'))[:63] -%}
        create {{ 'unique ' if index.get('unique') }}index if not exists {{ adapter.quote(name) }}
            on {{ this }} {{ 'using ' ~ index['type'] if index.get('type') }} ({{ columns | join(', ') }});
    {% endfor -%}
    {%- set table = this.include(database=False) %}
    do $upkeep$
    declare legacy record;
    begin
        -- Indexes an earlier version created through dbt's own `indexes` config (named by an md5 hash):
        -- the stable-named ones above replace them. Only for incremental marts: a mart rebuilt as a whole
        -- table keeps dbt's `indexes` config (its old table still holds stable names while the hook runs).
        for legacy in
            select indexname from pg_indexes
            where schemaname = '{{ this.schema }}' and tablename = '{{ this.identifier }}'
              and indexname ~ '^[0-9a-f]{32}$'
              and {{ 'true' if model.config.materialized == 'incremental' else 'false' }}
        loop
            execute format('drop index %I.%I', '{{ this.schema }}', legacy.indexname);
        end loop;
        if not exists (
            select 1 from pg_stat_user_tables
            where relid = '{{ table }}'::regclass
              and coalesce(last_analyze, last_autoanalyze) is not null
              and n_mod_since_analyze <= 0.1 * greatest(n_live_tup, 1)
        ) then
            analyze {{ table }};
        end if;
    end $upkeep$
{%- endmacro %}
