"""Delivery channels for email: SMTP (stdlib ``smtplib``) or, by default, a mailbox directory.

The mailbox is what a new developer gets with no SMTP configured: each email is an ``.eml`` file in
``<data dir>/mailbox`` that any mail client opens. It is written to a temporary file (``.tmp-*.part``, not
an ``.eml``: whatever lists ``*.eml`` never picks one up) and renamed, so a reader never sees half a
message. Both channels raise on failure; the delivery job decides about retries.
"""

from __future__ import annotations

import datetime
import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from ecommerce.modules.notifications.documents import Notification

EMAIL = "email"


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, message: EmailMessage) -> None: ...


def email_message(doc: Notification, sender: str) -> EmailMessage:
    """The email for a notification; its Message-ID is derived from the document id, so a receiver can
    recognise the (rare) duplicate after a worker died between sending and recording it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = doc.recipient_email
    message["Subject"] = doc.subject
    message["Date"] = format_datetime(doc.created_at.replace(tzinfo=datetime.UTC))
    message["Message-ID"] = f"<{doc.id}@{sender.rpartition('@')[2] or 'localhost'}>"
    message["X-Notification-Id"] = doc.id
    message.set_content(doc.body)
    return message


@dataclass(frozen=True)
class SmtpChannel:
    """Sends through an SMTP server (the module's ``smtp_*`` settings; used whenever ``smtp_host`` is set). One
    connection per message, upgraded with STARTTLS (the certificate verified) unless ``starttls`` is off."""

    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 10.0
    name: str = "smtp"

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                # An explicit default context: smtplib's own does not verify the server's certificate.
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


@dataclass(frozen=True)
class MailboxChannel:
    """Writes each email as ``<notification id>.eml`` into ``folder`` (``<data dir>/mailbox``): the default."""

    folder: Path
    name: str = "mailbox"

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        notification_id = str(message["X-Notification-Id"] or make_msgid().strip("<>"))
        target = self.folder / f"{notification_id}.eml"
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(message.as_bytes())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
