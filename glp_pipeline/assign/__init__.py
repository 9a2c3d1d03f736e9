"""Bulk assignment from a spreadsheet: read and check the file, plan the changes against the current
inventory, and (later) apply them to GreenLake with a journal.

- `workbook`: the template, and reading `.xlsx` / `.csv` files into rows, with file-level errors;
- `rows`: one row's cells parsed and checked on their own (serial, MAC, tags, archive flag);
- `plan`: the difference between the file and the current inventory, per device and operation.
"""
