"""A static HTTP server for a built site (the docs), so a real browser can open its pages."""

from __future__ import annotations

import functools
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

#: The xdist group of the tests that use the built docs site (``tests/architecture/conftest.py``): one
#: worker builds it, once.
DOCS_SITE = "docs-site"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class SiteServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # the browser dropped a connection: fine
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def serve(directory: Path) -> SiteServer:
    """A static server of ``directory`` on a free port, in a daemon thread (``shutdown()`` it)."""
    server = SiteServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
