"""A real SMTP server for the notification tests (aiosmtpd on a free local port)."""

from __future__ import annotations

import email
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default
from typing import Any

from tests.support.processes import free_port


class MailServer:
    """Collects what it receives; ``refuse`` answers the next N messages with ``451`` (try later)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = 0
        self.host, self.port = "127.0.0.1", 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 Mailbox temporarily unavailable, try again later"
            message = email.message_from_bytes(envelope.content, policy=default)
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 2.0.0 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def settings(self, **notifications: Any) -> dict[str, Any]:
        """Overrides that make the app send here (plain SMTP: no STARTTLS on a test server), with more of the
        notifications module's settings (``max_attempts=3``...)."""
        given = {"smtp_host": self.host, "smtp_port": self.port, "smtp_starttls": False, **notifications}
        return {"module_settings": {"notifications": given}}


@contextmanager
def running_mail_server(tls: ssl.SSLContext | None = None) -> Iterator[MailServer]:
    """aiosmtpd in its own thread for the length of the block; with ``tls``, STARTTLS is required."""
    from aiosmtpd.controller import Controller

    server = MailServer()
    server.port = free_port()
    controller = Controller(server, hostname=server.host, port=server.port, tls_context=tls,
                            require_starttls=tls is not None)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
