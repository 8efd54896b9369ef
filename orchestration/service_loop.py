"""What the platform's long-running processes share (the ingestion service, the alerting process): running
until told to stop, and a small JSON HTTP handler for their loopback endpoints."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler


def serve_until_signalled(
    start: Callable[[], None], stop: Callable[[], None], ready: Callable[[], str]
) -> None:
    """Start, print the ready line (a supervisor or test waits for it), run until SIGTERM or SIGINT, stop."""
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    start()
    print(ready(), flush=True)
    done.wait()
    stop()


class JsonHandler(BaseHTTPRequestHandler):
    """Answers in JSON with a length (keep-alive), and logs nothing per request."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the processes count what they serve
        pass

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
