"""Reading assignment spreadsheets: the template round-trips; every kind of bad file is one clear message."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from glp_pipeline.assign import workbook as wb


def _xlsx(rows: list[list[object]], *, title: str = "Devices", before: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    if before:
        first = book.create_sheet(before[0], 0)
        first.append(["just notes"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HEADER = list(wb.COLUMNS)


def test_the_template_can_be_filled_in_and_uploaded_back_as_it_is():
    template = load_workbook(io.BytesIO(wb.template()))
    assert template.sheetnames == ["Devices", "Instructions"]
    assert template.active.title == "Devices", "the sheet to fill in opens first"
    devices = template["Devices"]
    assert [c.value for c in devices[1]] == HEADER
    devices.append(
        ["sg1234567", "94-60-d5-12-34-56", "", "", "Aruba Central", "us-west", "KEY-1", "a=1", "no"]
    )
    buffer = io.BytesIO()
    template.save(buffer)

    sheet = wb.read_sheet(buffer.getvalue(), "filled.xlsx")
    assert [r.number for r in sheet.rows] == [2]
    row = sheet.rows[0]
    assert row.get(wb.SERIAL) == "sg1234567"
    assert row.get(wb.APPLICATION) == "Aruba Central"
    assert row.get(wb.ARCHIVE) == "no"
    assert sheet.notes == []


def test_header_aliases_extra_columns_and_a_title_above_the_header():
    data = _xlsx(
        [
            ["Device onboarding, November"],
            [],
            ["serial", "MAC", "Service", "region", "License Key", "Notes"],
            ["ABC123", "aabbccddeeff", "Central", "eu-central", "K1", "rack 4"],
            [None, None, None, None, None, None],
            [12345, None, None, None, None, None],
        ]
    )
    sheet = wb.read_sheet(data, "upload.xlsx")
    assert [r.number for r in sheet.rows] == [4, 6], "blank rows are skipped, numbers are the sheet's"
    assert sheet.rows[0].cells == {
        wb.SERIAL: "ABC123",
        wb.MAC: "aabbccddeeff",
        wb.APPLICATION: "Central",
        wb.REGION: "eu-central",
        wb.SUBSCRIPTION: "K1",
    }
    assert sheet.rows[1].get(wb.SERIAL) == "12345", "a numeric serial is not '12345.0'"
    assert any("'Notes'" in note and "not used" in note for note in sheet.notes)


def test_an_instructions_sheet_first_does_not_hide_the_devices():
    data = _xlsx([HEADER, ["ABC123"]], before=["Instructions"])
    assert wb.read_sheet(data, "f.xlsx").rows[0].get(wb.SERIAL) == "ABC123"


def test_csv_with_semicolons_and_a_bom():
    data = "\ufeffSerial Number;Region;Application\nABC123;eu-west;Central\n".encode()
    sheet = wb.read_sheet(data, "f.csv")
    assert sheet.rows[0].cells == {wb.SERIAL: "ABC123", wb.REGION: "eu-west", wb.APPLICATION: "Central"}


def test_csv_quoted_tags_keep_their_separators():
    data = b'Serial Number,Tags\nABC123,"a=1; b=2"\n'
    assert wb.read_sheet(data, "f.csv").rows[0].get(wb.TAGS) == "a=1; b=2"


def _merged() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["A1B2C3", None, None, None, "Central", "us-west"])
    sheet.append(["A1B2C4"])
    sheet.merge_cells("E2:E3")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _formula() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["A1B2C3", None, None, None, None, None, '=CONCAT("K", "1")'])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _not_xlsx_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


def _rows_csv(n: int) -> bytes:
    return ("Serial Number\n" + "".join(f"SN{i:07d}\n" for i in range(n))).encode()


BAD_FILES = {
    "empty file": (lambda: b"", "is empty"),
    "an image": (lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "neither an .xlsx"),
    "encrypted or legacy xls": (
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4000),
        "password-protected",
    ),
    "truncated xlsx": (lambda: _xlsx([HEADER, ["ABC123"]])[:900], "not a readable .xlsx"),
    "zip that is no workbook": (_not_xlsx_zip, "not a readable .xlsx"),
    "no serial column (xlsx)": (lambda: _xlsx([["Name", "Region"], ["x", "us-west"]]), "no 'Serial Number'"),
    "no serial column (csv)": (lambda: b"Name,Region\nx,us-west\n", "no 'Serial Number'"),
    "header only": (lambda: _xlsx([HEADER]), "no device rows"),
    "merged cells": (_merged, "merged cells (E2:E3)"),
    "formulas (xlsx)": (_formula, "formulas in cells G2"),
    "formulas (csv)": (lambda: b'Serial Number,Subscription Key\nABC123,=HYPERLINK("x")\n', "a formula in"),
    "two serial columns": (lambda: _xlsx([["Serial", "Serial Number"], ["a", "b"]]), "Two columns"),
    "100,000 rows": (lambda: _rows_csv(100_000), "100,000 rows; at most 50,000"),
    "oversize": (lambda: b"Serial Number\n" + b"X" * (wb.MAX_FILE_BYTES + 1), "the limit is 20 MB"),
    "not text": (lambda: "Serial Number\nABC\n".encode("utf-16"), "neither an .xlsx"),
    "header too far down": (
        lambda: _xlsx([[f"note {i}"] for i in range(12)] + [HEADER, ["ABC123"]]),
        "first 10 rows",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_file_is_one_clear_message(kind):
    make, expected = BAD_FILES[kind]
    with pytest.raises(wb.WorkbookError) as caught:
        wb.read_sheet(make(), "upload.xlsx")
    message = str(caught.value)
    assert expected in message, message
    assert "upload.xlsx" in message, "the message names the file"
    assert "Traceback" not in message and "Error(" not in message
