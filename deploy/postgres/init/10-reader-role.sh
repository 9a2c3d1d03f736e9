#!/bin/sh
# First start of the postgres service (empty volume) only: the SELECT-only role of the read-only surfaces
# (dashboard queries, MCP server), as a login with its own password. Every `dbt build` then grants it
# USAGE and SELECT on the marts and reporting schemas (dbt_project/macros/reader_role.sql) and nothing else.
# The password comes from the container's environment (GLP_READER_DB_PASSWORD), never from this file.
set -eu
: "${GLP_READER_DB_PASSWORD:?GLP_READER_DB_PASSWORD is not set}"
psql -v ON_ERROR_STOP=1 -v reader_password="$GLP_READER_DB_PASSWORD" \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE glp_reader LOGIN PASSWORD :'reader_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION CONNECTION LIMIT 50;
REVOKE CREATE ON SCHEMA public FROM glp_reader;
CREATE EXTENSION IF NOT EXISTS vector;
SQL
