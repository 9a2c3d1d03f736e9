"""Excel and CSV exports of device and subscription lists, safe to open in a spreadsheet.

A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets (CSV/formula injection). Device names, tags and tier descriptions come from
GreenLake and from whoever can edit them, so every such text cell is neutralised by a leading apostrophe,
the convention spreadsheets show as the literal text. Numbers, booleans and dates are written as themselves.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """The value as a spreadsheet cell: text that a spreadsheet would execute gets a leading apostrophe;
    JSON values (tags, raw objects) become their JSON text; datetimes lose their time zone (Excel has none),
    after conversion to UTC."""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _cells(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> Iterable[list[Any]]:
    for row in rows:
        yield [neutralize(row.get(column)) for column in columns]


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads non-ASCII names right) and a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for cells in _cells(rows, columns):
        writer.writerow(
            [c.isoformat() if isinstance(c, datetime | date) else ("" if c is None else c) for c in cells]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Iterable[dict[str, Any]], columns: Sequence[str], sheet: str = "export") -> bytes:
    """An .xlsx workbook with one sheet, a header row and every value neutralised."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    worksheet.append(list(columns))
    for cells in _cells(rows, columns):
        worksheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
