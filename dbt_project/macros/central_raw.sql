{#- One `aruba_raw` table as a relation with the given columns, or an empty one when the table is not there
    (a mode never synced: New Central loads `devices`, `clients`, ...; Classic `classic_aps`, ...), so that the
    Central models build whichever mode, or both, the raw data holds. `source()` is called either way, so
    the lineage (and Dagster's asset graph) always shows the raw table. -#}
{% macro central_raw(table, columns) -%}
    {%- set src = source('aruba', table) -%}
    {%- set relation = adapter.get_relation(database=src.database, schema=src.schema, identifier=src.identifier) if execute else src -%}
    {%- if relation is not none -%}
        select {{ columns.keys() | join(', ') }}, _glp_synced_at from {{ src }}
    {%- else -%}
        select
        {%- for name, type in columns.items() %}
            null::{{ type }} as {{ name }},
        {%- endfor %}
            null::timestamptz as _glp_synced_at
        where false
    {%- endif -%}
{%- endmacro %}

{#- A serial as both platforms are compared on: trimmed and upper-case. -#}
{% macro normal_serial(column) -%}
    nullif(upper(btrim({{ column }})), '')
{%- endmacro %}
