"""Unit tests of the OData subset parser and evaluator (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from glp_pipeline.simulator.odata import (
    FilterError,
    In,
    Not,
    Or,
    SortTerm,
    compile_filter,
    parse_filter,
    parse_select,
    parse_sort,
    sort_records,
)
from glp_pipeline.simulator.schema import DEVICE_SPECS, SUBSCRIPTION_SPECS, resolver, tag_spec

DEVICES: list[dict[str, Any]] = [
    {"id": "a", "serialNumber": "SN1", "deviceType": "IAP", "archived": False, "region": "us-west",
     "updatedAt": "2025-01-01T10:00:00.000Z", "application": {"id": "app-1"}, "deviceName": "O'Hare",
     "subscription": [{"id": "s1"}, {"id": "s2"}], "tags": {"City": "London", "floor": "3"}},
    {"id": "b", "serialNumber": "SN2", "deviceType": "SWITCH", "archived": True, "region": None,
     "updatedAt": "2025-06-01T00:00:00.000Z", "application": None, "deviceName": None,
     "subscription": None, "tags": None},
    {"id": "c", "serialNumber": "SN3", "deviceType": "COMPUTE", "archived": False, "region": "eu-central",
     "updatedAt": "2024-12-31T23:30:00.000Z", "application": {"id": "app-2"}, "deviceName": "zeta",
     "subscription": [], "tags": {"city": "Tokyo"}},
]  # fmt: skip
SUBS = [{"id": "x", "quantity": "9"}, {"id": "y", "quantity": "10"}, {"id": "z", "quantity": None}]


def ids(text: str, records: list[dict[str, Any]] = DEVICES, *, tags: bool = False) -> list[str]:
    if tags:
        predicate = compile_filter(parse_filter(text, tags=True), lambda k, _p: tag_spec(k), tags=True)
    else:
        specs = SUBSCRIPTION_SPECS if records is SUBS else DEVICE_SPECS
        predicate = compile_filter(parse_filter(text), resolver(specs, "filter"))
    return [r["id"] for r in records if predicate(r)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("serialNumber eq 'SN2'", ["b"]),
        ("serialNumber ne 'SN2'", ["a", "c"]),
        ("serialNumber gt 'SN1'", ["b", "c"]),
        ("serialNumber ge 'SN2'", ["b", "c"]),
        ("serialNumber lt 'SN2'", ["a"]),
        ("serialNumber le 'SN2'", ["a", "b"]),
        ("archived eq true", ["b"]),
        ("archived eq 'false'", ["a", "c"]),
        ("region eq null", ["b"]),
        ("region ne null", ["a", "c"]),
        ("not region eq null", ["a", "c"]),
        ("application/id eq 'app-2'", ["c"]),
        ("deviceName eq 'O''Hare'", ["a"]),
        ("subscription/id eq 's2'", ["a"]),
        ("serialNumber EQ 'SN1' OR deviceType Eq 'SWITCH'", ["a", "b"]),
    ],
)  # fmt: skip
def test_comparisons(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "deviceType in 'IAP', 'COMPUTE'",
        "deviceType in ('IAP','COMPUTE')",
        "deviceType in ['IAP', 'COMPUTE']",
        "deviceType IN ( 'IAP' , 'COMPUTE' )",
    ],
)
def test_the_three_in_forms_mean_the_same(text: str) -> None:
    assert ids(text) == ["a", "c"]


def test_bare_in_list_ends_at_the_next_logical_operator() -> None:
    assert ids("deviceType in 'IAP', 'COMPUTE' and archived eq false and region eq 'us-west'") == ["a"]
    expr = parse_filter("deviceType in 'IAP', 'COMPUTE' or serialNumber eq 'SN2'")
    assert isinstance(expr, Or)
    assert isinstance(expr.left, In)
    assert len(expr.left.values) == 2


def test_precedence_not_then_and_then_or_and_parentheses() -> None:
    # and binds tighter than or
    assert ids("serialNumber eq 'SN2' or deviceType eq 'IAP' and archived eq true") == ["b"]
    assert ids("(serialNumber eq 'SN2' or deviceType eq 'IAP') and archived eq false") == ["a"]
    # not binds tighter than and
    assert isinstance(parse_filter("not archived eq true and region eq null").left, Not)  # type: ignore[union-attr]
    assert ids("not archived eq true and region ne null") == ["a", "c"]
    assert ids("not (archived eq false or region eq null)") == []


def test_timestamps_compare_as_instants_whatever_the_offset() -> None:
    # 2025-01-01T01:00:00+02:00 is 2024-12-31T23:00Z: device c (23:30Z) is after it, lexically it is not.
    assert ids("updatedAt gt '2025-01-01T01:00:00+02:00'") == ["a", "b", "c"]
    assert ids("updatedAt lt '2025-01-01T00:00:00Z'") == ["c"]
    assert ids("updatedAt ge '2025-06-01T00:00:00.000Z' and updatedAt le '2025-06-01'") == ["b"]


def test_numeric_strings_compare_as_numbers_quoted_or_not() -> None:
    assert ids("quantity gt '9'", SUBS) == ["y"]  # lexically "10" < "9"
    assert ids("quantity gt 9", SUBS) == ["y"]
    assert ids("quantity in '9', 10", SUBS) == ["x", "y"]
    assert ids("quantity eq null", SUBS) == ["z"]


def test_tag_filters_use_case_insensitive_keys() -> None:
    assert ids("'city' eq 'London'", tags=True) == ["a"]
    assert ids("'City' in 'London', 'Tokyo'", tags=True) == ["a", "c"]
    assert ids("not 'city' eq 'Tokyo'", tags=True) == ["a", "b"]
    assert ids("'city' ne 'Tokyo'", tags=True) == ["a", "b"]  # no tag counts as "not Tokyo"
    assert ids("'floor' eq '3' and 'city' eq 'London'", tags=True) == ["a"]


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("colour eq 'red'", ["unknown filter property 'colour'", "position 0", "serialNumber"]),
        ("serialNumber eq 'SN1' and colour eq 'x'", ["'colour'", "position 26"]),
        ("serialNumber eq", ["expected a value", "end of input"]),
        ("serialNumber 'SN1'", ["expected an operator", "position 13"]),
        ("serialNumber eq 'SN1", ["unterminated string", "position 16"]),
        ("deviceType eq IAP", ["single quotes", "position 14"]),
        ("serialNumber eq 5", ["quote the value"]),
        ("serialNumber eq 'a' extra", ["expected 'and', 'or' or end of input", "position 20"]),
        ("(serialNumber eq 'a'", ["expected ')'"]),
        ("deviceType in ('a', 'b'", ["expected ',' or ')'"]),
        ("region gt null", ["cannot compare with null"]),
        ("archived gt true", ["not defined for boolean"]),
        ("updatedAt gt 'yesterday'", ["'yesterday'", "timestamp"]),
        ("serialNumber eq 'a' & x", ["unexpected character '&' at position 20"]),
        ("", ["empty expression"]),
    ],
)
def test_errors_say_what_and_where(text: str, fragments: list[str]) -> None:
    with pytest.raises(FilterError) as caught:
        ids(text)
    for fragment in fragments:
        assert fragment in caught.value.message


def test_tag_filters_refuse_ordering_operators() -> None:
    with pytest.raises(FilterError, match="filter-tags supports eq, ne and in"):
        ids("'city' gt 'A'", tags=True)


def test_sort_parsing() -> None:
    assert parse_sort("serialNumber, macAddress desc") == [
        SortTerm("serialNumber", False, 0),
        SortTerm("macAddress", True, 14),
    ]
    assert parse_sort("application/id ASC") == [SortTerm("application/id", False, 0)]
    with pytest.raises(FilterError, match="asc or desc"):
        parse_sort("serialNumber sideways")
    with pytest.raises(FilterError, match="position 13"):
        parse_sort("serialNumber,,model")


def test_select_parsing() -> None:
    assert parse_select(["serialNumber,macAddress", "serialNumber"]) == ["serialNumber", "macAddress"]
    with pytest.raises(FilterError, match="not a property name"):
        parse_select(["serial number"])


def test_sort_nulls_last_ascending_first_descending_and_stable() -> None:
    spec = DEVICE_SPECS["region"]
    assert [r["id"] for r in sort_records(DEVICES, [(spec, False)])] == ["c", "a", "b"]
    assert [r["id"] for r in sort_records(DEVICES, [(spec, True)])] == ["b", "a", "c"]
    archived, serial = DEVICE_SPECS["archived"], DEVICE_SPECS["serialNumber"]
    ordered = sort_records(DEVICES, [(archived, False), (serial, True)])
    assert [r["id"] for r in ordered] == ["c", "a", "b"]
    times = sort_records(DEVICES, [(DEVICE_SPECS["updatedAt"], False)])
    assert [r["id"] for r in times] == ["c", "a", "b"]
