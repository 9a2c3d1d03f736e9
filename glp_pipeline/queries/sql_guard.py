"""The parse check of ad-hoc SQL: the first of `run_query`'s layers, with no database involved.

`check(sql)` parses the text with PostgreSQL's own parser (pglast, i.e. libpg_query) and walks the whole parse
tree. It accepts exactly one read-only query over the `reporting` and `marts` schemas and refuses everything
else with an `UnsafeQuery` that says what is not allowed and what is. There is no keyword list: comments,
quoting, `U&"..."` escapes and dollar quoting are undone by the parser before anything is judged.

What passes:

- one statement: a SELECT (with WITH, UNION / INTERSECT / EXCEPT, VALUES, TABLE), or EXPLAIN of one without
  ANALYZE (the options FORMAT, VERBOSE, COSTS, BUFFERS, SUMMARY and MEMORY are fine);
- only the syntax an analytical SELECT needs (an allow-list of parse-tree node types): no SELECT ... INTO, no
  FOR UPDATE / SHARE, no data-modifying WITH, no XML functions, no `$1` parameters;
- relations in `reporting` or `marts`, qualified or not; an unqualified name resolves through the connection's
  search_path (reporting, marts), except names starting with `pg_`, which are PostgreSQL's catalogs (they
  come first on every search_path);
- functions from `ALLOWED_FUNCTIONS`, unqualified or qualified with `pg_catalog`, and casts to the types in
  `ALLOWED_TYPES` (no `regclass` & co., which look catalogs up). `row.name` is also a call of `name(row)`
  (attribute notation) when `row` is a whole row, so names of functions callable that way are refused after
  a dot as well.

Why an allow-list of functions: PostgreSQL has thousands of built-in functions and every release adds more;
a deny-list is out of date the day it ships (the seed's was). The list holds what questions about an
inventory need, grouped below; anything else is refused by name, whatever its schema, so file access
(pg_read_file, pg_ls_dir, lo_import), other servers (dblink), sessions and locks (pg_terminate_backend,
pg_advisory_lock), settings (set_config, current_setting), sleeping, sequences (nextval), queries run by a
function (query_to_xml) and user-defined functions are all out. Decisions on the borderline ones:

- `random` is in: volatile but harmless, and `order by random() limit 20` is how one samples rows;
- `generate_series` is in: date spines ("devices per month") need it, and an enormous series is bounded the
  same way as an enormous cross join, by the statement timeout and the row caps of the execution layers;
- `format` is in: it only formats its arguments (it does not run them, unlike `query_to_xml`);
- `current_setting` is out: it shows server settings, which a question about devices never needs;
- `current_user` & co. are out (`current_date`, `current_timestamp`, `localtimestamp` ... are in).

This layer is one of several: the query then runs in a READ ONLY transaction, as the SELECT-only reader role,
under a statement timeout, with row and size caps (see `glp_pipeline.queries.sql`), so a gap here is not a
hole there.
"""

from __future__ import annotations

from dataclasses import dataclass

from pglast import ast, parse_sql
from pglast.enums import SQLValueFunctionOp
from pglast.parser import ParseError, scan
from pglast.visitors import Visitor

from glp_pipeline.queries.connection import InvalidParameter

MAX_SQL_LENGTH = 20_000
READABLE_SCHEMAS = ("reporting", "marts")

ALLOWED = (
    "Only one read-only query may run: a SELECT (WITH, UNION/INTERSECT/EXCEPT and VALUES included) or an "
    "EXPLAIN of one without ANALYZE, over the reporting and marts schemas."
)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


FUNCTION_GROUPS: dict[str, frozenset[str]] = {
    "aggregate": _names(
        """count sum avg min max stddev stddev_pop stddev_samp variance var_pop var_samp percentile_cont
        percentile_disc mode string_agg array_agg json_agg jsonb_agg json_object_agg jsonb_object_agg
        bool_and bool_or every corr covar_pop covar_samp regr_slope regr_intercept regr_r2
        any_value"""
    ),
    "window": _names(
        """row_number rank dense_rank ntile lag lead first_value last_value nth_value percent_rank
        cume_dist"""
    ),
    "string": _names(
        """lower upper initcap btrim ltrim rtrim length char_length character_length octet_length substring
        substr position strpos split_part replace translate concat concat_ws left right lpad rpad reverse
        regexp_replace regexp_match regexp_matches regexp_like regexp_count regexp_substr regexp_instr
        regexp_split_to_array regexp_split_to_table starts_with format md5 to_hex ascii chr overlay normalize
        is_normalized like_escape similar_to_escape similar_escape"""
    ),
    "date and time": _names(
        """to_char to_date to_timestamp to_number date_trunc date_part extract date_bin age now
        statement_timestamp transaction_timestamp make_interval make_date make_time make_timestamp
        make_timestamptz justify_days justify_hours justify_interval timezone overlaps isfinite date_add
        date_subtract"""
    ),
    "math": _names(
        """abs round ceil ceiling floor trunc mod div power pow sqrt cbrt ln log log10 exp sign pi random
        width_bucket greatest least num_nulls num_nonnulls"""
    ),
    "json": _names(
        """jsonb_array_elements jsonb_array_elements_text jsonb_array_length jsonb_each jsonb_each_text
        jsonb_object_keys jsonb_typeof jsonb_extract_path jsonb_extract_path_text jsonb_strip_nulls
        jsonb_pretty jsonb_build_object jsonb_build_array jsonb_to_record jsonb_to_recordset jsonb_path_query
        jsonb_path_query_array jsonb_path_query_first jsonb_path_exists jsonb_path_match to_jsonb
        json_array_elements json_array_elements_text json_array_length json_each json_each_text
        json_object_keys json_typeof json_extract_path json_extract_path_text json_strip_nulls
        json_build_object json_build_array json_to_record json_to_recordset to_json row_to_json
        array_to_json"""
    ),
    "array and range": _names(
        """array_length array_lower array_upper cardinality array_position array_positions array_remove
        array_replace array_append array_prepend array_cat array_to_string string_to_array unnest
        generate_series int4range int8range numrange daterange tsrange tstzrange isempty lower_inc
        upper_inc"""
    ),
    "text search": _names(
        """to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery ts_rank ts_rank_cd
        ts_headline setweight"""
    ),
}
ALLOWED_FUNCTIONS: frozenset[str] = frozenset().union(*FUNCTION_GROUPS.values())

# Types a value may be cast to (`x::type`, `type 'literal'`, column definitions of jsonb_to_recordset ...),
# as the parser names them (`integer` is pg_catalog.int4). Not the reg* types, which look catalogs up.
ALLOWED_TYPES = _names(
    """bool int2 int4 int8 numeric float4 float8 text varchar bpchar date time timetz timestamp timestamptz
    interval json jsonb jsonpath uuid inet cidr macaddr macaddr8 tsvector tsquery regconfig int4range
    int8range numrange daterange tsrange tstzrange"""
)

# Built-in functions of one "any", anyelement or record argument, which `row.name` calls (attribute notation),
# outside the allow-list and not named pg_* (those are all refused after a dot).
_ATTRIBUTE_FUNCTIONS = _names(
    """quote_literal quote_nullable hash_record record_out record_send any_out anyelement_out anynonarray_out
    anycompatible_out anycompatiblenonarray_out json_agg_strict jsonb_agg_strict"""
)

EXPLAIN_OPTIONS = frozenset({"format", "verbose", "costs", "buffers", "summary", "memory"})

# The parse-tree nodes an analytical SELECT is made of. Anything else (statements, INTO, locking clauses,
# XML, parameters, ...) is refused, including node types a future pglast may add.
_ALLOWED_NODES = _names(
    """SelectStmt ResTarget ColumnRef A_Star A_Const String Integer Float Boolean BitString A_Expr BoolExpr
    NullTest BooleanTest FuncCall NamedArgExpr TypeCast TypeName CollateClause CaseExpr CaseWhen
    CoalesceExpr MinMaxExpr NullIfExpr SubLink RowExpr A_ArrayExpr A_Indirection A_Indices SQLValueFunction
    GroupingSet GroupingFunc SortBy WindowDef RangeVar RangeSubselect RangeFunction RangeTableSample
    ColumnDef JoinExpr Alias WithClause CommonTableExpr CTESearchClause CTECycleClause
    JsonAggConstructor JsonArgument JsonArrayAgg JsonArrayConstructor JsonArrayQueryConstructor
    JsonBehavior JsonFormat JsonFuncExpr JsonIsPredicate JsonKeyValue JsonObjectAgg JsonObjectConstructor
    JsonOutput JsonParseExpr JsonReturning JsonScalarExpr JsonSerializeExpr JsonTable JsonTableColumn
    JsonTablePathSpec JsonValueExpr"""
)

# What the refused node types are, for the message: (what the SQL uses, what to do instead).
_CONSTRUCTS = {
    "IntoClause": ("SELECT ... INTO", "Drop the INTO clause to read the rows"),
    "LockingClause": ("a locking clause (FOR UPDATE / SHARE)", "Drop it to read the rows"),
    "XmlExpr": ("an XML function", "Read the columns, or build JSON with jsonb_build_object"),
    "XmlSerialize": ("XMLSERIALIZE", "Read the columns, or build JSON with jsonb_build_object"),
    "RangeTableFunc": ("XMLTABLE", "Use jsonb_to_recordset or jsonb_array_elements"),
    "ParamRef": ("a parameter ($1, $2, ...)", "Write the value into the SQL"),
}

_STATEMENT_NAMES = {
    "InsertStmt": "INSERT",
    "UpdateStmt": "UPDATE",
    "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE",
    "CreateTableAsStmt": "CREATE TABLE AS",
    "DeclareCursorStmt": "DECLARE CURSOR",
    "ExecuteStmt": "EXECUTE",
}

_TIME_VALUES = frozenset(
    {
        SQLValueFunctionOp.SVFOP_CURRENT_DATE,
        SQLValueFunctionOp.SVFOP_CURRENT_TIME,
        SQLValueFunctionOp.SVFOP_CURRENT_TIME_N,
        SQLValueFunctionOp.SVFOP_CURRENT_TIMESTAMP,
        SQLValueFunctionOp.SVFOP_CURRENT_TIMESTAMP_N,
        SQLValueFunctionOp.SVFOP_LOCALTIME,
        SQLValueFunctionOp.SVFOP_LOCALTIME_N,
        SQLValueFunctionOp.SVFOP_LOCALTIMESTAMP,
        SQLValueFunctionOp.SVFOP_LOCALTIMESTAMP_N,
    }
)


class UnsafeQuery(InvalidParameter):
    """Ad-hoc SQL that the parse check refuses; the message says what is not allowed and what is."""


@dataclass(frozen=True)
class GuardedQuery:
    """One statement that passed the check.

    `sql` is its text as written (comments kept; surrounding blanks and the final `;` dropped). `explain` says
    it is an EXPLAIN (run as is) rather than a SELECT (read through a cursor). `relations` and `functions` are
    the names it uses, as written (CTE names included), for logs and audits.
    """

    sql: str
    explain: bool
    relations: tuple[str, ...]
    functions: tuple[str, ...]


def check(sql: str) -> GuardedQuery:
    """Parse `sql` and accept it only if it is one read-only query over `reporting` and `marts`.

    Raises `UnsafeQuery` (an `InvalidParameter`) naming what is refused.
    """
    if not isinstance(sql, str):
        raise UnsafeQuery(f"The SQL must be a string, not {type(sql).__name__}.")
    if len(sql) > MAX_SQL_LENGTH:
        raise UnsafeQuery(
            f"The SQL is {len(sql):,} characters long; the limit is {MAX_SQL_LENGTH:,}. "
            "Write a shorter query."
        )
    if "\x00" in sql:
        raise UnsafeQuery("The SQL contains a NUL character, which PostgreSQL does not accept.")
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        message = exc.args[0] if exc.args else str(exc)
        location = exc.args[1] if len(exc.args) > 1 else None
        raise UnsafeQuery(f"The SQL does not parse: {message}{where(sql, location)}.") from None
    if not statements:
        raise UnsafeQuery(f"The SQL is empty (or only comments). {ALLOWED}")
    if len(statements) > 1:
        raise UnsafeQuery(
            f"The SQL holds {len(statements)} statements; only one may run at a time (no `;` between "
            f"statements). {ALLOWED}"
        )
    raw = statements[0]
    end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(sql)
    text = sql[raw.stmt_location : end].strip().rstrip(";").rstrip()
    stmt = raw.stmt
    explain = isinstance(stmt, ast.ExplainStmt)
    if explain:
        _check_explain_options(stmt, sql)
        query = stmt.query
        if not isinstance(query, ast.SelectStmt):
            raise UnsafeQuery(f"EXPLAIN of {_statement_name(query)} is not allowed. {ALLOWED}")
    elif isinstance(stmt, ast.SelectStmt):
        query = stmt
    else:
        name = _statement_name(stmt, text)
        raise UnsafeQuery(f"{name[0].upper()}{name[1:]} cannot run here. {ALLOWED}")
    walker = _Walker(sql)
    walker(query)
    return GuardedQuery(
        sql=text,
        explain=explain,
        relations=tuple(dict.fromkeys(walker.relations)),
        functions=tuple(sorted(set(walker.functions))),
    )


def where(text: str, location: int | None) -> str:
    """` at line L, column C (near "...")` for a 0-based character offset into `text`, or nothing."""
    if location is None or not 0 <= location <= len(text):
        return ""
    line = text.count("\n", 0, location) + 1
    column = location - (text.rfind("\n", 0, location) + 1) + 1
    near = text[location : location + 30].split("\n")[0].strip()
    return f" at line {line}, column {column}" + (f" (near `{near}`)" if near else "")


def _check_explain_options(stmt: ast.ExplainStmt, sql: str) -> None:
    for option in stmt.options or ():
        name = option.defname.lower()
        if name == "analyze":
            raise UnsafeQuery(
                "EXPLAIN ANALYZE runs the query it explains, so it is not allowed; use EXPLAIN without "
                f"ANALYZE (the options {', '.join(sorted(o.upper() for o in EXPLAIN_OPTIONS))} are fine)."
            )
        if name not in EXPLAIN_OPTIONS:
            raise UnsafeQuery(
                f"The EXPLAIN option {name.upper()} is not allowed{where(sql, option.location)}; use "
                f"{', '.join(sorted(o.upper() for o in EXPLAIN_OPTIONS))}."
            )


def _statement_name(stmt: ast.Node, text: str | None = None) -> str:
    """`a DROP statement`: the name of a few statement classes, else the statement's first keyword."""
    kind = type(stmt).__name__
    name = _STATEMENT_NAMES.get(kind)
    if name is None and text is not None:
        words = [t for t in scan(text) if t.name not in ("C_COMMENT", "SQL_COMMENT")]
        name = text[words[0].start : words[0].end + 1].upper() if words else None
    if name is None:
        name = kind.removesuffix("Stmt").upper()
    return f"{'an' if name[:1] in 'AEIOU' else 'a'} {name} statement"


class _Walker(Visitor):
    """Visits every node of a SELECT's parse tree (breadth first) and raises on the first refused one."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.relations: list[str] = []
        self.functions: list[str] = []

    def visit(self, ancestors, node) -> None:  # pglast's visitor protocol
        kind = type(node).__name__
        if kind not in _ALLOWED_NODES:
            construct, advice = _CONSTRUCTS.get(kind, (_STATEMENT_NAMES.get(kind, kind), ALLOWED))
            raise UnsafeQuery(
                f"The SQL uses {construct}, which is not allowed{self._at(node)}. {advice.rstrip('.')}."
            )
        check = getattr(self, f"_check_{kind}", None)
        if check is not None:
            check(node)

    def _at(self, node: ast.Node) -> str:
        location = getattr(node, "location", None)
        return where(self.sql, location) if isinstance(location, int) and location >= 0 else ""

    def _check_SelectStmt(self, node: ast.SelectStmt) -> None:
        if node.intoClause is not None:
            raise UnsafeQuery(
                "SELECT ... INTO creates a table, so it is not allowed; drop the INTO clause to read the "
                "rows."
            )
        if node.lockingClause:
            raise UnsafeQuery(
                "FOR UPDATE / FOR NO KEY UPDATE / FOR SHARE / FOR KEY SHARE lock rows, so they are not "
                "allowed; drop the locking clause to read the rows."
            )

    def _check_CommonTableExpr(self, node: ast.CommonTableExpr) -> None:
        if not isinstance(node.ctequery, ast.SelectStmt):
            statement = _STATEMENT_NAMES.get(type(node.ctequery).__name__, type(node.ctequery).__name__)
            raise UnsafeQuery(
                f"WITH {node.ctename} AS ({statement} ...) changes data, so it is not "
                f"allowed{self._at(node)}; only SELECT may appear in WITH."
            )

    def _check_RangeVar(self, node: ast.RangeVar) -> None:
        written = ".".join(n for n in (node.catalogname, node.schemaname, node.relname) if n)
        if node.catalogname:
            raise UnsafeQuery(
                f"{written}: database-qualified names are not allowed{self._at(node)}; write "
                f"{node.schemaname}.{node.relname}."
            )
        if node.schemaname is not None and node.schemaname not in READABLE_SCHEMAS:
            raise UnsafeQuery(
                f"{written} cannot be read{self._at(node)}: queries may read only the schemas reporting and "
                "marts (for example reporting.active_devices or marts.devices)."
            )
        if node.schemaname is None and node.relname.startswith("pg_"):
            raise UnsafeQuery(
                f"{written} is a PostgreSQL system catalog name, so it cannot be read{self._at(node)}: "
                "queries may read only the schemas reporting and marts."
            )
        self.relations.append(written)

    def _check_FuncCall(self, node: ast.FuncCall) -> None:
        names = [n.sval for n in node.funcname]
        written = ".".join(names)
        if len(names) > 2 or (len(names) == 2 and names[0] != "pg_catalog"):
            raise UnsafeQuery(
                f"The function {written} is not allowed{self._at(node)}: only PostgreSQL's built-in "
                "analytical functions may be called, unqualified or qualified with pg_catalog."
            )
        if names[-1] not in ALLOWED_FUNCTIONS:
            raise UnsafeQuery(
                f"The function {written} is not allowed{self._at(node)}. Queries may call built-in "
                f"analytical functions only: {_FUNCTION_SUMMARY}."
            )
        self.functions.append(names[-1])

    def _check_ColumnRef(self, node: ast.ColumnRef) -> None:
        if len(node.fields) > 1:
            self._attribute(node.fields[-1], node)

    def _check_A_Indirection(self, node: ast.A_Indirection) -> None:
        for field in node.indirection or ():
            self._attribute(field, node)

    def _attribute(self, field: ast.Node, node: ast.Node) -> None:
        """`d.pg_column_size` is `pg_column_size(d)` when `d` is a row (attribute notation), a function call
        that no FuncCall node shows: refuse the names of functions callable that way."""
        name = getattr(field, "sval", None)
        if (
            name
            and (name.startswith("pg_") or name in _ATTRIBUTE_FUNCTIONS)
            and name not in ALLOWED_FUNCTIONS
        ):
            raise UnsafeQuery(
                f"The name {name} is not allowed after a dot{self._at(node)}: on a row it calls the function "
                f"{name}. Queries may call built-in analytical functions only: {_FUNCTION_SUMMARY}."
            )

    def _check_TypeName(self, node: ast.TypeName) -> None:
        names = [n.sval for n in node.names]
        written = ".".join(names)
        qualified_ok = len(names) == 1 or (len(names) == 2 and names[0] == "pg_catalog")
        if node.pct_type or node.setof or not qualified_ok or names[-1] not in ALLOWED_TYPES:
            raise UnsafeQuery(
                f"The type {written} is not allowed{self._at(node)}; values may be cast to "
                f"{', '.join(sorted(ALLOWED_TYPES))} (and arrays of them)."
            )

    def _check_SQLValueFunction(self, node: ast.SQLValueFunction) -> None:
        if node.op not in _TIME_VALUES:
            name = node.op.name.removeprefix("SVFOP_").lower()
            raise UnsafeQuery(
                f"{name} is not allowed{self._at(node)}; of the SQL value functions only the date and time "
                "ones (current_date, current_time, current_timestamp, localtime, localtimestamp) are."
            )

    def _check_A_Expr(self, node: ast.A_Expr) -> None:
        self._operator(node.name, node)

    def _check_SubLink(self, node: ast.SubLink) -> None:
        self._operator(node.operName, node)

    def _check_SortBy(self, node: ast.SortBy) -> None:
        self._operator(node.useOp, node)

    def _check_CollateClause(self, node: ast.CollateClause) -> None:
        names = [n.sval for n in node.collname or ()]
        if len(names) > 1 and names[:-1] != ["pg_catalog"]:
            raise UnsafeQuery(
                f"The collation {'.'.join(names)} is not allowed{self._at(node)}; use a built-in collation "
                'such as "C" or "default".'
            )

    def _check_RangeTableSample(self, node: ast.RangeTableSample) -> None:
        method = ".".join(n.sval for n in node.method)
        if method not in ("bernoulli", "system"):
            raise UnsafeQuery(
                f"TABLESAMPLE {method} is not allowed{self._at(node)}; use TABLESAMPLE BERNOULLI or SYSTEM."
            )

    def _operator(self, name: tuple | None, node: ast.Node) -> None:
        names = [n.sval for n in name or ()]
        if len(names) > 1 and names[:-1] != ["pg_catalog"]:
            raise UnsafeQuery(
                f"The operator OPERATOR({'.'.join(names)}) is not allowed{self._at(node)}; only built-in "
                "operators may be used."
            )


_FUNCTION_SUMMARY = (
    "aggregates (count, sum, avg, min, max, string_agg, percentile_cont, ...), window functions (row_number, "
    "rank, lag, lead, ...), string (lower, split_part, regexp_replace, concat, ...), date and time "
    "(date_trunc, age, to_char, now, ...), math (round, abs, width_bucket, ...), JSON "
    "(jsonb_array_elements, jsonb_each, jsonb_build_object, ...), array (unnest, array_length, "
    "generate_series, ...) and text search (to_tsvector, websearch_to_tsquery, ts_rank, ...)"
)
