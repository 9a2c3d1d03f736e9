"""JSON exports of the inventory: `glp sync --json-only`, `--backup FILE`, `--subscription-backup FILE`.

A file is a JSON array with one API object per line: valid JSON for any tool, greppable, and writable as
pages stream in, so a 100,000-device export never sits in memory. It is written to a temporary file beside
the target and renamed into place only when the read was complete: a failed run leaves any earlier file
untouched and no half-written one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Any

import orjson


class JsonArrayWriter:
    """Streams objects into a JSON array file; `commit()` publishes it atomically, `abort()` discards it."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target)
        self.count = 0
        self.pass_number = 0
        self._fh: IO[bytes] | None = None
        self._tmp: Path | None = None

    def _open(self) -> IO[bytes]:
        if self._fh is None:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent)
            self._tmp = Path(name)
            self._fh = os.fdopen(fd, "wb")
            self._fh.write(b"[")
        return self._fh

    def write_many(self, items: list[dict[str, Any]]) -> None:
        fh = self._open()
        for item in items:
            fh.write(b"\n" if self.count == 0 else b",\n")
            fh.write(orjson.dumps(item))
            self.count += 1

    def restart(self, pass_number: int) -> None:
        """The client is re-reading the inventory from the start: drop what this pass wrote so far."""
        self.abort()
        self.pass_number = pass_number

    def commit(self) -> Path:
        fh = self._open()
        fh.write(b"\n]\n")
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        self._fh = None
        assert self._tmp is not None
        self._tmp.chmod(0o644)
        os.replace(self._tmp, self.target)
        self._tmp = None
        return self.target

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None
        self.count = 0


def export_inventory(
    client: Any,
    targets: dict[str, Path],
    progress: Any = None,
    api_filter: str | None = None,
) -> dict[str, int]:
    """Read each resource completely and write it to its file (no database). Returns the object counts.

    Either every file is published or, when any read fails, none is: the files are committed only after
    all reads are complete.
    """
    writers = {resource: JsonArrayWriter(path) for resource, path in targets.items()}
    try:
        for resource, writer in writers.items():
            lister = client.list_devices if resource == "devices" else client.list_subscriptions
            for page in lister(filter=api_filter):
                if page.reconcile_attempt != writer.pass_number:
                    writer.restart(page.reconcile_attempt)
                writer.write_many(page.items)
                if progress is not None:
                    progress(resource, writer.count, page.total)
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    counts = {resource: writer.count for resource, writer in writers.items()}
    for writer in writers.values():
        writer.commit()
    return counts
