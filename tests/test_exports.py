"""Exports open in a spreadsheet as data, never as formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

from openpyxl import load_workbook

from glp_pipeline.exports import neutralize, to_csv, to_xlsx

ROWS = [
    {"serial": '=HYPERLINK("http://x","y")', "name": "Zürich-AP-01", "count": 3, "tags": {"k": "v"}},
    {"serial": "+cmd|' /C calc'!A0", "name": "-2+3", "count": 0, "tags": None},
    {"serial": "@SUM(1)", "name": "\tTabbed", "count": None, "tags": {}},
    {"serial": "CN12345", "name": "plain", "count": 7, "tags": {"site": "=evil"}},
]
COLUMNS = ["serial", "name", "count", "tags"]


def test_neutralize_prefixes_every_formula_trigger():
    for dangerous in ("=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"):
        assert neutralize(dangerous) == "'" + dangerous
    assert neutralize("CN12345") == "CN12345"
    assert neutralize(5) == 5
    assert neutralize(None) is None
    assert neutralize({"a": "=b"}) == '{"a": "=b"}'


def test_neutralize_converts_aware_times_to_naive_utc():
    moment = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert neutralize(moment) == datetime(2026, 1, 1, 10, 0)
    assert neutralize(datetime(2026, 1, 1, tzinfo=UTC)).tzinfo is None


def test_xlsx_cells_are_values_not_formulas():
    workbook = load_workbook(io.BytesIO(to_xlsx(ROWS, COLUMNS)))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(COLUMNS)
    assert rows[1][0] == '\'=HYPERLINK("http://x","y")'
    assert rows[1][1] == "Zürich-AP-01"
    assert rows[2][1] == "'-2+3"
    assert rows[3][1] == "'\tTabbed"
    assert rows[4][3] == '{"site": "=evil"}'
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert rows[1][2] == 3 and rows[2][2] == 0


def test_csv_has_a_header_and_neutralised_text():
    text = to_csv(ROWS, COLUMNS).decode("utf-8")
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert parsed[0] == COLUMNS
    assert [row[0] for row in parsed[1:]] == [
        '\'=HYPERLINK("http://x","y")',
        "'+cmd|' /C calc'!A0",
        "'@SUM(1)",
        "CN12345",
    ]
    assert parsed[3][2] == ""
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in parsed[1:] for cell in row)
