"""Injected faults, as a client sees them on the wire."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx
import pytest

from glp_pipeline.simulator import FaultConfig

from .support import Live

Serve = Callable[..., Live]
DEVICES = "/devices/v1/devices"


def test_error_rate_one_fails_every_api_request_with_a_5xx(serve: Serve) -> None:
    live = serve()
    token = live.token
    live.sim.faults.error_rate = 1.0
    responses = [live.get(DEVICES, limit=1) for _ in range(12)]
    statuses = {r.status_code for r in responses}
    assert statuses <= {500, 502, 503}
    assert len(statuses) > 1
    server_error = next(r for r in responses if r.status_code == 500).json()
    assert server_error["errorCode"] == "HPE_GL_ERROR_INTERNAL_SERVER_ERROR"
    assert server_error["errorDetails"] == [{"type": "hpe.greenlake.retry_info", "retryAfterSeconds": 1}]
    assert live.fetch_token().status_code == 200  # the token endpoint is spared
    live.sim.faults.error_rate = 0.0
    headers = {"Authorization": f"Bearer {token}"}
    assert live.http.get(DEVICES, headers=headers).status_code == 200


def test_error_statuses_are_configurable(serve: Serve) -> None:
    live = serve(faults=FaultConfig(error_rate=1.0, error_statuses=(502,)))
    response = live.get(DEVICES)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")  # a gateway page, not JSON


def test_error_burst_then_normal(serve: Serve) -> None:
    live = serve()
    live.token  # noqa: B018 - fetch the token before the burst starts
    live.sim.faults.error_burst = 2
    assert [live.get(DEVICES, limit=1).status_code for _ in range(3)] == [503, 503, 200]
    assert live.sim.faults.error_burst == 0


def test_rate_limit_burst_then_normal(serve: Serve) -> None:
    live = serve(retry_after=True)
    live.token  # noqa: B018
    live.sim.faults.rate_limit_burst = 1
    refused = live.get(DEVICES, limit=1)
    assert refused.status_code == 429
    assert refused.json()["errorCode"] == "HPE_GL_ERROR_TOO_MANY_REQUESTS"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert refused.headers["retry-after"] == "1"
    assert live.get(DEVICES, limit=1).status_code == 200


def test_latency_delays_api_responses(serve: Serve) -> None:
    live = serve()
    live.token  # noqa: B018
    live.sim.faults.latency_ms = 300
    started = time.monotonic()
    assert live.get(DEVICES, limit=1).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_drop_closes_the_connection_without_a_response(serve: Serve) -> None:
    live = serve()
    live.token  # noqa: B018
    live.sim.faults.drop_rate = 1.0
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        live.get(DEVICES, limit=1)
    record = live.sim.request_log[-1]
    assert (record.path, record.status, record.fault) == (DEVICES, 0, "drop")
    live.sim.faults.drop_rate = 0.0
    assert live.get(DEVICES, limit=1).status_code == 200


def test_truncate_announces_a_length_and_sends_less(serve: Serve) -> None:
    live = serve()
    token = live.token
    live.sim.faults.truncate_rate = 1.0
    with pytest.raises(httpx.RemoteProtocolError, match=r"complete message body"):
        live.get(DEVICES, limit=50)
    # On the raw socket: the headers promise N bytes, fewer arrive, then the server closes.
    port = live.server.port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        request = f"GET {DEVICES}?limit=50 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
        sock.sendall(request.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
    )
    assert head.startswith(b"HTTP/1.1 200")
    assert 0 < len(body) < length


def test_omit_total(serve: Serve) -> None:
    live = serve()
    live.sim.faults.omit_total = True
    body = live.get(DEVICES, limit=10).json()
    assert "total" not in body
    assert body["count"] == 10


def test_random_faults_are_deterministic_for_a_seed(serve: Serve) -> None:
    def statuses(live: Live) -> list[int]:
        live.token  # noqa: B018
        live.sim.faults.error_rate = 0.5
        return [live.get(DEVICES, limit=1).status_code for _ in range(16)]

    first, second = statuses(serve()), statuses(serve())
    assert first == second
    assert 200 in first and any(status >= 500 for status in first)


def test_fault_settings_are_validated_at_runtime(serve: Serve) -> None:
    live = serve()
    with pytest.raises(ValueError, match="error_rate"):
        live.sim.faults.error_rate = 1.5
