"""One spreadsheet row, parsed and checked on its own: what it asks for, and what is wrong with it.

Checks that need the inventory (unknown serial, application, subscription, ...) are the plan's; here only
what a row can be judged on by itself. Every problem of a row is collected, not just the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from glp_pipeline.assign import workbook as wb

UNSET = "-"  # in Application or Subscription Key: remove it
MAX_TAGS_PER_DEVICE = 25
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
_TAG_CHARS = re.compile(r"^[\w .:=+\-@]*$", re.UNICODE)
_SERIAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_/.]{2,63}$")
_HEX = re.compile(r"[0-9A-Fa-f]")
_TRUE = {"yes", "y", "true", "1", "archive", "archived", "x"}
_FALSE = {"no", "n", "false", "0", "unarchive", "unarchived"}
ADD_KINDS = ("NETWORK", "COMPUTE", "STORAGE")


@dataclass(frozen=True)
class Issue:
    """A problem with one row (or one cell of it). Errors block applying the file; warnings do not."""

    row: int
    column: str | None
    message: str
    severity: str = "error"


@dataclass
class RowRequest:
    """What one row asks for. None means "leave as it is"; `UNSET` semantics are spelled out as flags."""

    row: int
    serial_number: str
    mac_address: str | None = None
    device_type: str | None = None
    part_number: str | None = None
    application: str | None = None
    unassign_application: bool = False
    region: str | None = None
    subscription_key: str | None = None
    remove_subscription: bool = False
    tags: dict[str, str | None] = field(default_factory=dict)  # None: remove the tag
    archive: bool | None = None


def parse_row(row: wb.SheetRow) -> tuple[RowRequest | None, list[Issue]]:
    """The row's request, or None when it has no usable serial (nothing to look up); and all of its
    issues."""
    issues: list[Issue] = []

    def error(column: str | None, message: str) -> None:
        issues.append(Issue(row.number, column, message))

    serial = row.get(wb.SERIAL).strip()
    if not serial:
        error(wb.SERIAL, "Serial Number is empty.")
    elif not _SERIAL.match(serial):
        error(wb.SERIAL, f"'{serial}' is not a serial number (letters and digits, 3 to 64 characters).")
        serial = ""  # nothing more can be checked against the inventory
    request = RowRequest(row=row.number, serial_number=serial.upper())

    if mac := row.get(wb.MAC):
        request.mac_address = normalize_mac(mac)
        if request.mac_address is None:
            error(wb.MAC, f"'{mac}' is not a MAC address (12 hex digits, e.g. 94:60:D5:12:34:56).")
    request.device_type = row.get(wb.DEVICE_TYPE).strip().upper() or None
    request.part_number = row.get(wb.PART).strip().upper() or None

    application = row.get(wb.APPLICATION).strip()
    region = row.get(wb.REGION).strip().lower()
    if application == UNSET:
        request.unassign_application = True
        if region and region != UNSET:
            error(wb.REGION, "A region is given although the application is removed ('-').")
    elif application:
        request.application = application
        if not region or region == UNSET:
            error(wb.REGION, f"Application '{application}' needs a Region (e.g. us-west).")
        else:
            request.region = region
    elif region:
        error(wb.APPLICATION, f"Region '{region}' is given without an Application.")

    key = row.get(wb.SUBSCRIPTION).strip()
    if key == UNSET:
        request.remove_subscription = True
    elif key:
        request.subscription_key = key.upper()

    if tags := row.get(wb.TAGS).strip():
        request.tags, tag_errors = parse_tags(tags)
        for message in tag_errors:
            error(wb.TAGS, message)

    if archive := row.get(wb.ARCHIVE).strip().lower():
        if archive in _TRUE:
            request.archive = True
        elif archive in _FALSE:
            request.archive = False
        else:
            error(wb.ARCHIVE, f"Archive must be yes or no (or empty), not '{row.get(wb.ARCHIVE)}'.")
    if request.archive and (request.application or request.subscription_key or request.tags):
        issues.append(
            Issue(
                row.number,
                wb.ARCHIVE,
                "The device is archived after its other changes are applied.",
                "warning",
            )
        )
    return (request if serial else None), issues


def normalize_mac(text: str) -> str | None:
    """Any notation (colons, dashes, dots, none) → AA:BB:CC:DD:EE:FF; None when it is not 12 hex digits."""
    stripped = re.sub(r"[\s:\-.]", "", text)
    if len(stripped) != 12 or len(_HEX.findall(stripped)) != 12:
        return None
    upper = stripped.upper()
    return ":".join(upper[i : i + 2] for i in range(0, 12, 2))


def parse_tags(text: str) -> tuple[dict[str, str | None], list[str]]:
    """`k=v; k2=v2` (also `,` or new lines between tags): `k=` is an empty value, `-k` removes the tag.

    The rules are GreenLake's: key 1–128 characters, value up to 256, letters, digits, spaces and
    `_ . : = + - @` only, keys compared case-insensitively, at most 25 tags on a device."""
    tags: dict[str, str | None] = {}
    seen: dict[str, str] = {}
    errors = []
    for part in re.split(r"[;\n]", text):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            key, value = (s.strip() for s in part.split("=", 1))
            new_value: str | None = value
        elif part.startswith("-"):
            key, new_value = part[1:].strip(), None
        else:
            errors.append(f"Tag '{part}' has no '=' (write key=value, or -key to remove a tag).")
            continue
        if not 1 <= len(key) <= TAG_KEY_MAX:
            errors.append(f"Tag key '{key}' must be 1 to {TAG_KEY_MAX} characters.")
            continue
        if not _TAG_CHARS.match(key) or (new_value is not None and not _TAG_CHARS.match(new_value)):
            errors.append(
                f"Tag '{part}' has a character GreenLake does not allow (letters, digits, spaces and "
                "_ . : = + - @ only)."
            )
            continue
        if new_value is not None and len(new_value) > TAG_VALUE_MAX:
            errors.append(f"Tag '{key}' has a value longer than {TAG_VALUE_MAX} characters.")
            continue
        if key.lower() in seen:
            errors.append(
                f"Tag '{key}' is given twice (keys are compared without case: '{seen[key.lower()]}')."
            )
            continue
        seen[key.lower()] = key
        tags[key] = new_value
    if sum(v is not None for v in tags.values()) > MAX_TAGS_PER_DEVICE:
        errors.append(f"More than {MAX_TAGS_PER_DEVICE} tags for one device.")
    return tags, errors
