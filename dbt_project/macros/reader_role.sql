{#- The SELECT-only role of the read-only surfaces (dashboard, MCP server, chat agent): it may read the
    `marts` and `reporting` schemas and nothing else. The start hook creates it; the end hook, after every
    run (dbt recreates relations, dropping their grants), gives it USAGE on the two schemas and SELECT on
    every relation in them, and makes SELECT the default for relations created there later, so that a
    relation a build swaps in is readable at once rather than only when the build ends.

    A database user without the CREATEROLE privilege (common on managed PostgreSQL) cannot create it: the
    build then goes on without it and says so in a notice; an administrator can create the role once
    (`create role glp_reader nologin`) and every later build grants to it.

    `reader_login` (set for the embedded server only, whose trust authentication on a local socket needs
    no password) lets the role log in, so the read-only surfaces connect as it rather than switching to it
    with SET ROLE, which a statement could undo. -#}

{% macro ensure_reader_role() -%}
    {%- set role = var('reader_role') -%}
    {%- set login = 'login' if var('reader_login', false) else 'nologin' -%}
    do $$
    begin
        if not exists (select 1 from pg_roles where rolname = '{{ role }}') then
            create role {{ adapter.quote(role) }} {{ login }};
        {%- if var('reader_login', false) %}
        elsif not (select rolcanlogin from pg_roles where rolname = '{{ role }}') then
            alter role {{ adapter.quote(role) }} login;
        {%- endif %}
        end if;
    exception
        when duplicate_object then null;  -- created concurrently by another build
        when insufficient_privilege then
            raise notice 'cannot create role {{ role }} (no CREATEROLE privilege); skipping its grants';
    end
    $$;
{%- endmacro %}

{% macro grant_reader_schema_usage() -%}
    {%- set role = var('reader_role') -%}
    do $$
    begin
        if exists (select 1 from pg_roles where rolname = '{{ role }}') then
            {%- for schema in ['marts', 'reporting'] %}
            execute 'create schema if not exists {{ schema }}';
            execute 'grant usage on schema {{ schema }} to {{ adapter.quote(role) }}';
            execute 'grant select on all tables in schema {{ schema }} to {{ adapter.quote(role) }}';
            -- and on what later builds create, from the moment they create it (not only at their end)
            execute 'alter default privileges in schema {{ schema }} grant select on tables to {{ adapter.quote(role) }}';
            {%- endfor %}
        end if;
    end
    $$;
{%- endmacro %}
