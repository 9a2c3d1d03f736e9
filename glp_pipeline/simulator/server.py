"""Running the simulator: in a background thread for tests and benchmarks, or in the foreground for the CLI.

The background server binds its socket before the thread starts, so port 0 yields a known free port with no
race, and `start` returns only once uvicorn accepts connections. uvicorn's logging setup is skipped there
(`log_config=None`): an embedded server must not reconfigure the host program's logging.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import uvicorn

if TYPE_CHECKING:
    from .config import SimulatorConfig


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):  # noqa: S104 - only turned into a client-side URL here
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def bind_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket; port 0 picks a free port, which `getsockname()` then tells."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and without it every
    # small response waits ~40 ms for a delayed ACK (headers and body are separate writes).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class SimulatorServer:
    """A running simulator server. Use as a context manager or call `stop()`."""

    def __init__(
        self, server: uvicorn.Server, thread: threading.Thread, host: str, port: int, workspace_id: str
    ) -> None:
        self._server = server
        self._thread = thread
        self.host = host
        self.port = port
        self.base_url = f"http://{_url_host(host)}:{port}"
        self.token_url = f"{self.base_url}/as/token.oauth2"
        self.workspace_token_url = f"{self.base_url}/authorization/v2/oauth2/{workspace_id}/token"

    @classmethod
    def start(
        cls, app: Any, host: str, port: int, workspace_id: str, timeout: float = 10.0
    ) -> SimulatorServer:
        sock = bind_socket(host, port)
        bound_port = sock.getsockname()[1]
        config = uvicorn.Config(app, host=host, port=bound_port, log_config=None, access_log=False,
                                lifespan="off", ws="none", timeout_graceful_shutdown=2)  # fmt: skip
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"glp-simulator:{bound_port}"
        )
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise RuntimeError(f"the GreenLake simulator did not start on {host}:{bound_port}")
            time.sleep(0.005)
        return cls(server, thread, host, bound_port, workspace_id)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, close connections, and wait for the server thread to end."""
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SimulatorServer({self.base_url})"


def run_forever(config: SimulatorConfig, host: str = "127.0.0.1", port: int = 8400) -> None:
    """Serve a simulator in the foreground until Ctrl-C (what `glp simulate` runs).

    Prints the URLs to use (with the real port when `port` is 0) on stderr; the secret is never printed.
    """
    from .core import GreenLakeSimulator

    sim = GreenLakeSimulator(config)
    sock = bind_socket(host, port)
    # Listen before announcing the URL: a client that acts on the banner at once then waits in the backlog
    # until uvicorn accepts, instead of being refused while the server is still starting.
    sock.listen(2048)
    port = sock.getsockname()[1]
    base = f"http://{_url_host(host)}:{port}"
    print(
        f"GreenLake simulator: {config.devices} devices, {config.subscriptions} subscriptions, "
        f"seed {config.seed}, workspace {config.workspace_id}\n"
        f"  GLP_BASE_URL={base}\n"
        f"  GLP_TOKEN_URL={base}/as/token.oauth2\n"
        f"  (or the workspace issuer {base}/authorization/v2/oauth2/{config.workspace_id}/token)\n"
        f"  GLP_CLIENT_ID={config.client_id}  (GLP_CLIENT_SECRET: the configured client secret)",
        file=sys.stderr,
        flush=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(sim.app, host=host, port=port, lifespan="off", ws="none", access_log=False,
                       log_level="info", timeout_graceful_shutdown=2)
    )  # fmt: skip
    # uvicorn re-raises the SIGINT it handled after a graceful shutdown: that is the normal way out here.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
