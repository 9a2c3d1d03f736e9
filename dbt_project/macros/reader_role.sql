{#- The SELECT-only role of the read-only surfaces (dashboard, MCP server, chat agent): it may read the
    `marts` and `reporting` schemas and nothing else. The start hook creates it; the end hook, after every
    run (dbt recreates relations, dropping their grants), gives it USAGE on the two schemas and SELECT on
    every relation in them. -#}

{% macro ensure_reader_role() -%}
    {%- set role = var('reader_role') -%}
    do $$
    begin
        if not exists (select 1 from pg_roles where rolname = '{{ role }}') then
            create role {{ adapter.quote(role) }} nologin;
        end if;
    exception when duplicate_object then null;  -- created concurrently by another build
    end
    $$;
{%- endmacro %}

{% macro grant_reader_schema_usage() -%}
    {%- set role = var('reader_role') -%}
    {%- for schema in ['marts', 'reporting'] %}
    create schema if not exists {{ schema }};
    grant usage on schema {{ schema }} to {{ adapter.quote(role) }};
    grant select on all tables in schema {{ schema }} to {{ adapter.quote(role) }};
    {%- endfor %}
{%- endmacro %}
