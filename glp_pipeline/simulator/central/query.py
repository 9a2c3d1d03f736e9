"""New Central's `filter` and `sort` (greenlake-api.md E.2), on the GreenLake simulator's OData parser.

New Central accepts a narrower OData than GreenLake: only `and` (an `or` or `not` is a 400), only `eq` and
`in`, at most 256 characters, and per endpoint only the documented properties. Rather than a second parser,
the GreenLake one parses and this module refuses what New Central does not accept, so error messages keep
their positions. The filter and sort fields of /aps, /switches, /gateways and the sort fields of /clients
are not published: those below are an assumption modelled on /devices [inf].
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..odata import (
    And,
    Compare,
    Expr,
    FieldSpec,
    FilterError,
    In,
    Kind,
    Not,
    Or,
    compile_filter,
    parse_filter,
    parse_sort,
    sort_records,
)

Record = dict[str, Any]
S, N, T = Kind.STRING, Kind.NUMBER, Kind.TIMESTAMP


@dataclass(frozen=True)
class Endpoint:
    """One New Central list: its record kind, `limit` default and minimum, filter and sort properties."""

    name: str
    default_limit_field: str  # CentralSimulatorConfig field
    min_limit: int
    filters: dict[str, Kind]
    sorts: dict[str, Kind]
    extra_params: tuple[str, ...] = ()


_DEVICE_SORTS = {
    name: S for name in ("siteId", "siteName", "serialNumber", "deviceName", "deployment", "model")
}
ENDPOINTS: dict[str, Endpoint] = {
    "devices": Endpoint(
        "devices", "devices_default_limit", 0,
        {name: S for name in ("siteId", "siteName", "serialNumber", "deviceName", "deviceType", "status",
                              "model", "firmwareVersion", "deployment", "clusterName")},
        _DEVICE_SORTS,
    ),
    "aps": Endpoint(
        "aps", "aps_default_limit", 0,
        {name: S for name in ("siteId", "siteName", "serialNumber", "deviceName", "status", "model",
                              "firmwareVersion", "deployment", "clusterName", "deviceGroupName")},
        _DEVICE_SORTS,
    ),
    "switches": Endpoint(
        "switches", "switches_default_limit", 0,
        {name: S for name in ("siteId", "siteName", "serialNumber", "deviceName", "status", "model",
                              "firmwareVersion", "deployment", "stackId")},
        _DEVICE_SORTS,
    ),
    "gateways": Endpoint(
        "gateways", "gateways_default_limit", 0,
        {name: S for name in ("siteId", "siteName", "serialNumber", "deviceName", "status", "model",
                              "firmwareVersion", "clusterName", "mode", "role", "deviceFunction")},
        {name: S for name in ("siteId", "siteName", "serialNumber", "deviceName", "model")},
    ),
    "clients": Endpoint(
        "clients", "clients_default_limit", 1,
        {"clientConnectionType": S, "status": S, "wlanName": S, "vlanId": N, "tunnelType": S, "role": S},
        {"macAddress": S, "clientName": S, "siteId": S, "siteName": S, "status": S, "connectedAt": T,
         "lastSeenAt": T},
        ("site-id", "site-name", "serial-number", "start-at", "end-at"),
    ),
}  # fmt: skip
COMMON_PARAMS = ("limit", "next", "filter", "sort")


def _spec(name: str, kind: Kind) -> FieldSpec:
    return FieldSpec(name, kind, lambda record: record.get(name))


def _check_subset(expr: Expr) -> None:
    """Refuse what New Central's filter grammar lacks: `or`, `not`, and operators other than eq/in."""
    if isinstance(expr, Or):
        raise FilterError("only 'and' may combine conditions: 'or' is not supported")
    if isinstance(expr, Not):
        raise FilterError("'not' is not supported: only eq and in conditions joined by 'and'")
    if isinstance(expr, And):
        _check_subset(expr.left)
        _check_subset(expr.right)
    elif isinstance(expr, Compare) and expr.op != "eq":
        raise FilterError(
            f"operator {expr.op!r} at position {expr.pos} is not supported: use eq or in", expr.pos
        )
    elif isinstance(expr, In) and any(value.kind == "null" for value in expr.values):
        raise FilterError(f"null is not a value 'in' accepts (position {expr.pos})", expr.pos)


def compile_new_filter(endpoint: Endpoint, text: str, max_length: int) -> Callable[[Record], bool]:
    """A predicate for a New Central `filter`, or FilterError with a message fit for the 400."""
    if len(text) > max_length:
        raise FilterError(f"filter is {len(text)} characters long; at most {max_length} are allowed")
    expr = parse_filter(text)
    _check_subset(expr)

    def resolve(name: str, position: int) -> FieldSpec:
        kind = endpoint.filters.get(name)
        if kind is None:
            allowed = ", ".join(endpoint.filters)
            raise FilterError(
                f"cannot filter on {name!r} (position {position}); allowed: {allowed}", position
            )
        return _spec(name, kind)

    return compile_filter(expr, resolve)


def sort_keys(endpoint: Endpoint, text: str) -> list[tuple[FieldSpec, bool]]:
    """Sort keys for a New Central `sort` (`siteName asc, deviceName desc`), or FilterError."""
    keys = []
    for term in parse_sort(text):
        kind = endpoint.sorts.get(term.name)
        if kind is None:
            allowed = ", ".join(endpoint.sorts)
            raise FilterError(f"cannot sort on {term.name!r}; allowed: {allowed}", term.position)
        keys.append((_spec(term.name, kind), term.descending))
    return keys


class QueryCache:
    """The last few query results, so paging through one query does not filter and sort on every page."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._results: OrderedDict[tuple[Any, ...], list[Record]] = OrderedDict()

    def get(self, key: tuple[Any, ...], compute: Callable[[], list[Record]]) -> list[Record]:
        cached = self._results.get(key)
        if cached is not None:
            self._results.move_to_end(key)
            return cached
        result = compute()
        self._results[key] = result
        if len(self._results) > self._size:
            self._results.popitem(last=False)
        return result


def run_query(
    records: list[Record],
    test: Callable[[Record], bool] | None,
    keys: list[tuple[FieldSpec, bool]] | None,
) -> list[Record]:
    """Filter, then sort (stable; nulls last ascending)."""
    result = [record for record in records if test(record)] if test else records
    return sort_records(result, keys) if keys else result
