"""Stand-in services for gateway tests: tiny HTTP servers that answer any method with their name and what
they were asked, so a test sees which service (or instance) nginx chose. A ``dying`` one reads each
request and drops the connection unanswered, as a SIGKILLed process does to a request in flight."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandIn(ThreadingHTTPServer):
    def __init__(self, name: str, port: int, dying: bool = False) -> None:
        super().__init__(("127.0.0.1", port), _Answer)
        self.name, self.dying = name, dying
        self.seen: list[str] = []  # "METHOD /path?query" of every request received
        self.lock = threading.Lock()


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StandIn

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        with self.server.lock:
            self.server.seen.append(f"{self.command} {self.path}")
        if self.server.dying:
            self.close_connection = True  # the connection drops with the request unanswered
            return
        body = f"{self.server.name} {self.command} {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def stand_ins(specs: Sequence[tuple[str, int, bool]]) -> Iterator[list[StandIn]]:
    """One stand-in per (name, port (0: any), dying) until the block ends."""
    servers = [StandIn(name, port, dying) for name, port, dying in specs]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield servers
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
