"""What the modelled tables are: relations of `reporting` and `marts`, their columns, types and the
descriptions dbt persisted as PostgreSQL comments. For assistants writing SQL and for people exploring."""

from __future__ import annotations

from typing import Any

from glp_pipeline.queries.connection import DEFAULT_CONFIG, QueryConfig, read_only_connection

SCHEMAS = ("reporting", "marts")


def schema_catalog(url: str, config: QueryConfig = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """One entry per table or view of `reporting` and `marts` (reporting first): `schema`, `name`, `kind`,
    `description`, and `columns` (name, type, description) in column order. Internal columns are left out."""
    with read_only_connection(url, config) as conn:
        rows = conn.execute(
            "select n.nspname as schema, c.relname as name,"
            " case c.relkind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end as kind,"
            " obj_description(c.oid, 'pg_class') as description,"
            " a.attname as column, format_type(a.atttypid, a.atttypmod) as type,"
            " col_description(c.oid, a.attnum) as column_description"
            " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped"
            " where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p')"
            " and a.attname <> 'search_vector'"
            " order by array_position(%s, n.nspname::text), c.relname, a.attnum",
            (list(SCHEMAS), list(SCHEMAS)),
        ).fetchall()
    catalog: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        entry = catalog.setdefault(
            (r["schema"], r["name"]),
            {"schema": r["schema"], "name": r["name"], "kind": r["kind"], "description": r["description"],
             "columns": []},
        )  # fmt: skip
        entry["columns"].append(
            {"name": r["column"], "type": r["type"], "description": r["column_description"]}
        )
    return list(catalog.values())
