"""Run a real Sanic server (real sockets, real HTTP protocol) in a background thread for one test.

Why not sanic-testing's clients: its ASGI client re-runs start-up for every request and bypasses the
HTTP protocol (no 413 from the server, no keep-alive); its socket client starts a server per request.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

from sanic import Sanic

#: One server starts at a time in a process. Why: starting parses and compiles Python (sanic's router, the
#: storefront's templates), and CPython 3.11's ``ast`` keeps its recursion depth in one global
#: (``tests/support/py311.py``); two start-ups in two threads must not interleave there.
_STARTING = threading.Lock()


class LiveServer:
    def __init__(self, app: Sanic, ssl: Any = None) -> None:
        self.app = app
        self.ssl = ssl
        self.loop = asyncio.new_event_loop()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"{'https' if ssl else 'http'}://127.0.0.1:{self.port}"
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._server: Any = None
        self._thread = threading.Thread(target=self._run, name="live-server", daemon=True)

    def start(self) -> LiveServer:
        with _STARTING:
            self._thread.start()
            if not self._ready.wait(timeout=30):
                raise RuntimeError("the test server did not start within 30 s")
        if self._error is not None:
            raise RuntimeError("the test server failed to start") from self._error
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self._server = self.loop.run_until_complete(
                self.app.create_server(sock=self.sock, return_asyncio_server=True, access_log=False, ssl=self.ssl)
            )
            self.loop.run_until_complete(self._server.startup())
            self.loop.run_until_complete(self._server.before_start())
            self.loop.run_until_complete(self._server.after_start())
        except BaseException as exc:  # surfaced to the test by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    async def _shutdown(self) -> None:
        await self._server.before_stop()
        self._server.close()
        await self._server.wait_closed()
        await self._server.after_stop()

    def stop(self) -> None:
        """Shut the server down and end its thread. A shutdown that hangs (a background task that will not
        end) raises here, but the loop is stopped all the same: a server left serving, its relay and jobs
        still running against a closed test's database, made every later test of that process fail."""
        try:
            if self._server is not None:
                asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=30)
            if not self._thread.is_alive():
                self.loop.close()
