{#- Schemas are named exactly staging, marts, reporting and snapshots, whatever the target: they are the
    product's public contract, queried by name from the dashboard, the MCP server and ad-hoc SQL. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
