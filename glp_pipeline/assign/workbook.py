"""The assignment spreadsheet: the downloadable template, and reading `.xlsx` / `.csv` files into rows.

A file is checked as a whole first, so that anything wrong with it (not a spreadsheet, encrypted, corrupt,
too big, no serial column, merged cells, ...) is one clear `WorkbookError` before any row is looked at. Rows
come back as text cells under the template's column names, whatever header spelling the file used (the
aliases below), with their spreadsheet row numbers for messages. Cell formulas are not evaluated: a cell that
holds a formula is reported, because what the sheet showed is not what the file contains.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

SERIAL = "Serial Number"
MAC = "MAC Address"
DEVICE_TYPE = "Device Type"
PART = "Part Number"
APPLICATION = "Application"
REGION = "Region"
SUBSCRIPTION = "Subscription Key"
TAGS = "Tags"
ARCHIVE = "Archive"
COLUMNS = (SERIAL, MAC, DEVICE_TYPE, PART, APPLICATION, REGION, SUBSCRIPTION, TAGS, ARCHIVE)

# Header spellings people use (compared lower-case, without spaces, dashes, underscores or dots).
ALIASES = {
    SERIAL: ("serialnumber", "serial", "serialno", "sn", "deviceserial", "serialnum"),
    MAC: ("macaddress", "mac", "macaddr", "ethernetmac"),
    DEVICE_TYPE: ("devicetype", "type"),
    PART: ("partnumber", "part", "partno", "productnumber", "productid", "pn"),
    APPLICATION: ("application", "app", "service", "servicemanager", "applicationid", "applicationname"),
    REGION: ("region", "applicationregion", "serviceregion"),
    SUBSCRIPTION: (
        "subscriptionkey",
        "subscription",
        "licensekey",
        "licencekey",
        "license",
        "licence",
        "key",
    ),
    TAGS: ("tags", "tag", "devicetags"),
    ARCHIVE: ("archive", "archived", "archivedevice"),
}
_ALIAS_TO_COLUMN = {alias: column for column, aliases in ALIASES.items() for alias in aliases}

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
HEADER_SEARCH_ROWS = 10
INSTRUCTIONS_SHEET = "Instructions"
DEVICES_SHEET = "Devices"

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted .xlsx and legacy .xls are OLE containers
_ZIP_MAGIC = b"PK\x03\x04"


class WorkbookError(ValueError):
    """The file as a whole cannot be used; the message says what to do."""


@dataclass(frozen=True)
class SheetRow:
    """One data row: its spreadsheet row number and its cells as text ('' when empty), by column name."""

    number: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass
class Sheet:
    """What was read from a file: the rows, the columns found, and notes about the file (e.g. columns that
    are not used) that are worth showing but do not stop anything."""

    rows: list[SheetRow]
    columns: list[str]
    notes: list[str] = field(default_factory=list)


def read_sheet(data: bytes, filename: str, *, max_rows: int = MAX_ROWS) -> Sheet:
    """Read an uploaded `.xlsx` or `.csv` (told apart by content, not by name) into rows."""
    if not data:
        raise WorkbookError(f"{filename} is empty. Fill in the template and upload it again.")
    if len(data) > MAX_FILE_BYTES:
        raise WorkbookError(
            f"{filename} is {len(data) / 1_048_576:.1f} MB; the limit is {MAX_FILE_BYTES // 1_048_576} MB. "
            "Split it into several files."
        )
    if data.startswith(_OLE_MAGIC):
        raise WorkbookError(
            f"{filename} is password-protected or an old-style .xls workbook. Save an unprotected copy as "
            ".xlsx (Excel: File > Save As > Excel Workbook) and upload that."
        )
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data, filename, max_rows)
    return _read_csv(data, filename, max_rows)


# --- xlsx ------------------------------------------------------------------------------------------------


def _read_xlsx(data: bytes, filename: str, max_rows: int) -> Sheet:
    try:
        # Read-only first: it streams, so an oversized sheet is refused before it is loaded into memory.
        streaming = load_workbook(io.BytesIO(data), read_only=True)
        sizes = {ws.title: ws.max_row or 0 for ws in streaming.worksheets}
        streaming.close()
        workbook = load_workbook(io.BytesIO(data), data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise WorkbookError(
            f"{filename} is not a readable .xlsx workbook ({type(exc).__name__}); it may be damaged. Open it "
            "in Excel, save it again as .xlsx, and upload that, or download a fresh template."
        ) from exc
    for ws in workbook.worksheets:
        if ws.sheet_state != "visible" or ws.title == INSTRUCTIONS_SHEET:
            continue
        grid = [[cell for cell in row] for row in ws.iter_rows()]
        header_at = _find_header([[_text(c.value) for c in row] for row in grid[:HEADER_SEARCH_ROWS]])
        if header_at is None:
            continue
        if sizes.get(ws.title, 0) - header_at - 1 > max_rows:
            raise WorkbookError(_too_many(filename, sizes[ws.title] - header_at - 1, max_rows))
        if ws.merged_cells.ranges:
            ranges = ", ".join(str(r) for r in list(ws.merged_cells.ranges)[:5])
            raise WorkbookError(
                f"Sheet '{ws.title}' of {filename} has merged cells ({ranges}). Unmerge them (Excel: Home > "
                "Merge & Center > Unmerge Cells) so that every row has its own values, and upload again."
            )
        header = [_text(c.value) for c in grid[header_at]]
        columns, notes = _map_header(header, f"sheet '{ws.title}' of {filename}")
        formulas = [
            f"{cell.coordinate}"
            for row in grid[header_at + 1 :]
            for cell in row
            if cell.data_type == "f" and cell.column - 1 in columns
        ]
        if formulas:
            shown = ", ".join(formulas[:10]) + (" ..." if len(formulas) > 10 else "")
            raise WorkbookError(
                f"Sheet '{ws.title}' of {filename} has formulas in cells {shown}. Paste them as plain "
                "numbers and text instead (copy, then Paste Special > Values) and upload again."
            )
        rows = []
        for offset, row in enumerate(grid[header_at + 1 :], start=header_at + 2):
            cells = {columns[i]: _text(c.value) for i, c in enumerate(row) if i in columns}
            if any(cells.values()):
                rows.append(SheetRow(offset, cells))
        return _finish(rows, list(columns.values()), notes, filename)
    raise WorkbookError(_no_serial_column(filename))


# --- csv -------------------------------------------------------------------------------------------------


def _read_csv(data: bytes, filename: str, max_rows: int) -> Sheet:
    if b"\x00" in data[:4096]:
        raise WorkbookError(
            f"{filename} is neither an .xlsx workbook nor a CSV text file. Upload the filled-in template "
            "(.xlsx) or a CSV export of it."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise WorkbookError(
                f"{filename} is not UTF-8 text. Save it as 'CSV UTF-8' and upload again."
            ) from exc
    # The separator is the one (comma, semicolon as Excel writes in many locales, or tab) under which the
    # first lines have a serial-number header.
    head = text.splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = next(
        (d for d in (",", ";", "\t") if _find_header(list(csv.reader(head, delimiter=d))) is not None), None
    )
    if delimiter is None:
        raise WorkbookError(_no_serial_column(filename))
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise WorkbookError(f"{filename} is not valid CSV ({exc}).") from exc
    header_at = _find_header(table[:HEADER_SEARCH_ROWS])
    if header_at is None:
        raise WorkbookError(_no_serial_column(filename))
    if len(table) - header_at - 1 > max_rows:
        raise WorkbookError(_too_many(filename, len(table) - header_at - 1, max_rows))
    columns, notes = _map_header([c.strip() for c in table[header_at]], filename)
    rows = []
    for number, values in enumerate(table[header_at + 1 :], start=header_at + 2):
        cells = {columns[i]: v.strip() for i, v in enumerate(values) if i in columns}
        if any(cells.values()):
            formula = next((c for c, v in cells.items() if v.startswith("=") and c != TAGS), None)
            if formula:
                raise WorkbookError(
                    f"Row {number} of {filename} has a formula in {formula} ({cells[formula]!r}). "
                    "Put the plain text or number in its place and upload again."
                )
            rows.append(SheetRow(number, cells))
    return _finish(rows, list(columns.values()), notes, filename)


# --- shared ----------------------------------------------------------------------------------------------


def _normalise(header: str) -> str:
    return re.sub(r"[\s_\-.()#]", "", header.lower())


def _find_header(rows: list[list[str]]) -> int | None:
    """The index of the first row naming a serial-number column."""
    for index, row in enumerate(rows):
        if any(_ALIAS_TO_COLUMN.get(_normalise(value)) == SERIAL for value in row if value):
            return index
    return None


def _map_header(header: list[str], where: str) -> tuple[dict[int, str], list[str]]:
    """Column index → template column; unknown headers become notes, a column named twice an error."""
    columns: dict[int, str] = {}
    notes = []
    for index, value in enumerate(header):
        if not value:
            continue
        column = _ALIAS_TO_COLUMN.get(_normalise(value))
        if column is None:
            notes.append(f"Column '{value}' of {where} is not used (the columns are: {', '.join(COLUMNS)}).")
        elif column in columns.values():
            raise WorkbookError(
                f"Two columns of {where} mean {column} ('{value}' and an earlier one). "
                "Keep one and upload again."
            )
        else:
            columns[index] = column
    return columns, notes


def _finish(rows: list[SheetRow], columns: list[str], notes: list[str], filename: str) -> Sheet:
    if not rows:
        raise WorkbookError(f"{filename} has a header row but no device rows. Add one row per device.")
    return Sheet(rows=rows, columns=columns, notes=notes)


def _text(value: object) -> str:
    """A cell's value as the text a person typed: whole numbers without '.0', booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _too_many(filename: str, rows: int, limit: int) -> str:
    return (
        f"{filename} has {rows:,} rows; at most {limit:,} are accepted in one file. "
        "Split it and upload the parts."
    )


def _no_serial_column(filename: str) -> str:
    return (
        f"{filename} has no '{SERIAL}' column in its first {HEADER_SEARCH_ROWS} rows. Start from the "
        f"template (its columns: {', '.join(COLUMNS)}) and keep its header row."
    )


# --- the template ----------------------------------------------------------------------------------------

INSTRUCTIONS = (
    ("Serial Number", "Required. The device's serial number."),
    ("MAC Address", "Needed to add a network device that is not in the workspace yet (any notation)."),
    (
        "Device Type",
        "Optional check: NETWORK, COMPUTE or STORAGE for a device to add, or its GreenLake type.",
    ),
    ("Part Number", "Needed to add a compute or storage device that is not in the workspace yet."),
    ("Application", "Application (service manager) name or id. '-' unassigns. Needs a Region."),
    ("Region", "Region of the application, e.g. us-west, eu-central."),
    ("Subscription Key", "Subscription to apply; replaces the device's current one. '-' removes it."),
    ("Tags", "key=value; key2=value2. 'key=' sets an empty value; '-key' removes the tag."),
    ("Archive", "yes to archive, no to unarchive; empty leaves it as it is."),
    ("", ""),
    ("Empty cells", "An empty cell means: leave this as it is."),
    (
        "Upload",
        "Fill in the Devices sheet, save as .xlsx (or CSV), and upload it. Nothing is written to "
        "GreenLake before you have seen the plan and confirmed it.",
    ),
)


def template() -> bytes:
    """The template workbook: the Devices sheet (first and active, header row, an archive drop-down) and an
    Instructions sheet. It can be filled in and uploaded back as it is."""
    workbook = Workbook()
    devices = workbook.active
    assert devices is not None
    devices.title = DEVICES_SHEET
    devices.append(list(COLUMNS))
    for cell in devices[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for letter, width in zip("ABCDEFGHI", (18, 20, 13, 14, 38, 14, 22, 36, 9), strict=True):
        devices.column_dimensions[letter].width = width
    devices.freeze_panes = "A2"
    archive = DataValidation(type="list", formula1='"yes,no"', allow_blank=True)
    devices.add_data_validation(archive)
    archive.add(f"I2:I{MAX_ROWS + 1}")
    help_sheet = workbook.create_sheet(INSTRUCTIONS_SHEET)
    help_sheet.append(["Column", "What to put in it"])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    for row in INSTRUCTIONS:
        help_sheet.append(list(row))
    help_sheet.column_dimensions["A"].width = 18
    help_sheet.column_dimensions["B"].width = 100
    workbook.active = 0
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_csv() -> str:
    """The template as CSV: the header row only."""
    return ",".join(COLUMNS) + "\n"
