"""What every GLP Sync MCP tool shares: the read-only annotation, bounded page sizes, how a call reaches the
query layer (its errors become tool errors whose text says what to do), and JSON-safe structured output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field
from pydantic_core import to_jsonable_python

from glp_pipeline import queries as q
from glp_pipeline.database import DatabaseError, reader_database_url
from glp_pipeline.settings import get_settings

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
MAX_PAGE_SIZE = 100  # an assistant's context is small: pages beyond this are asked for, not sent
T = TypeVar("T")


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a query-layer call against the configured database; its errors become tool errors.

    The database is resolved per call, so the server starts (and lists its tools) while PostgreSQL is down.
    """
    try:
        settings = get_settings()
        url = reader_database_url(settings)
        config = q.QueryConfig.from_settings(settings, statement_timeout_seconds=10.0)
        return fn(url, *args, config=config, **kwargs)
    except (q.QueryError, DatabaseError) as exc:
        raise ToolError(str(exc)) from exc


def to_json(value: Any) -> Any:
    """JSON-safe structured content: dataclasses as objects, times ISO 8601, decimals as numbers."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    return to_jsonable_python(value, fallback=str)


def page_result(page: q.Page) -> dict[str, Any]:
    """One page of a search as the tools return it: the items and where they stand in the whole."""
    return {
        "items": to_json(page.items),
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "page_size": page.page_size,
    }


def rows(value: list[Any]) -> dict[str, Any]:
    """A list result as a structured object (MCP structured output is an object, not a list)."""
    return {"rows": to_json(value)}


PageNumber = Annotated[int, Field(ge=1, description="1 for the first page.")]
PageSize = Annotated[
    int, Field(ge=1, le=MAX_PAGE_SIZE, description=f"Rows per page (at most {MAX_PAGE_SIZE}).")
]
Days = Annotated[int, Field(ge=0, le=3650)]
