"""Container health check without curl: `healthcheck.py http://127.0.0.1:8501/_stcore/health` succeeds on
HTTP 200; `healthcheck.py tcp://127.0.0.1:8010` succeeds when the port accepts a connection."""

from __future__ import annotations

import socket
import sys
import urllib.request
from urllib.parse import urlsplit


def check(url: str, timeout: float = 5.0) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            return True
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) or tcp URL: {url}")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
        return response.status == 200


if __name__ == "__main__":
    try:
        ok = check(sys.argv[1])
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        ok = False
    sys.exit(0 if ok else 1)
