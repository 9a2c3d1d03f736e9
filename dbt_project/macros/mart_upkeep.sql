{#- Post-hook of every mart table: its indexes, then fresh planner statistics.

    A mart lists its indexes in `meta.indexes` (dicts like dbt's `indexes` config: columns, unique, type)
    rather than in dbt's own `indexes` config, because dbt names those with a timestamp and creates them only
    when it creates the table: an index added in a later version would never reach an existing incremental
    table, and re-creating them would pile up duplicates. Here each index has a stable name
    (`<table>__<columns>`), so `if not exists` makes the hook a cheap no-op once they are there.

    ANALYZE then tells the planner the new rows' distribution at once rather than whenever autovacuum gets
    round to it: without it, searches on a freshly built 100k-device table misjudge every filter. -#}
{% macro mart_upkeep() -%}
    {%- for index in model.config.get('meta', {}).get('indexes', []) -%}
        {%- set columns = index['columns'] -%}
        {%- set name = (this.identifier ~ '__' ~ columns | join('__'))[:63] -%}
        create {{ 'unique ' if index.get('unique') }}index if not exists {{ adapter.quote(name) }}
            on {{ this }} {{ 'using ' ~ index['type'] if index.get('type') }} ({{ columns | join(', ') }});
    {% endfor -%}
    analyze {{ this }}
{%- endmacro %}
