"""The notifications module's settings and what it works with once started.

Read at start-up from ``ECOMMERCE_NOTIFICATIONS_*`` (or the older ``ECOMMERCE_NOTIFICATION_*`` and
``ECOMMERCE_SMTP_*`` names, which keep working) and the config file's ``[notifications]`` table. The
module's setup chooses, from them and the kernel's services, the document store (Redis when
``ECOMMERCE_REDIS_URL`` is set, else the embedded SQL store), the email channel (SMTP when a host is set,
else the mailbox directory) and the retry policy, and keeps them here."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from ecommerce.kernel.module import ModuleContext, Runtime
from ecommerce.kernel.module_settings import flag, number, setting, text
from ecommerce.modules.notifications.channels import Channel, MailboxChannel, SmtpChannel
from ecommerce.modules.notifications.documents import DocumentStore
from ecommerce.modules.notifications.models import database


@dataclass(frozen=True)
class NotificationsSettings:
    retention: int = setting(90 * 24 * 3600, number(int, 60, 10 * 365 * 24 * 3600),
                             legacy="ECOMMERCE_NOTIFICATION_RETENTION",
                             doc="seconds a notification document is kept (the Redis TTL, or the purge)")
    max_attempts: int = setting(6, number(int, 1, 100), legacy="ECOMMERCE_NOTIFICATION_MAX_ATTEMPTS",
                                doc="send attempts before a notification is marked failed")
    retry_base: float = setting(30.0, number(float, 0.01, 24 * 3600), legacy="ECOMMERCE_NOTIFICATION_RETRY_BASE",
                                doc="the first retry delay in seconds; each later one doubles (capped at 6 h)")
    smtp_host: str | None = setting(None, text(), legacy="ECOMMERCE_SMTP_HOST",
                                    doc="send email through this SMTP server; unset: .eml files in <data dir>/mailbox")
    smtp_port: int = setting(587, number(int, 1, 65535), legacy="ECOMMERCE_SMTP_PORT", doc="the SMTP server's port")
    smtp_user: str | None = setting(None, text(), legacy="ECOMMERCE_SMTP_USER", doc="log in with this user")
    smtp_password: str | None = setting(None, text(), legacy="ECOMMERCE_SMTP_PASSWORD", secret=True,
                                        doc="and this password (shown as (set))")
    smtp_starttls: bool = setting(True, flag, legacy="ECOMMERCE_SMTP_STARTTLS",
                                  doc="upgrade the connection with STARTTLS before logging in")
    smtp_from: str = setting("shop@example.com", text(), legacy="ECOMMERCE_SMTP_FROM",
                             doc="the From: of every email")
    smtp_timeout: float = setting(10.0, number(float, 0.1, 600), legacy="ECOMMERCE_SMTP_TIMEOUT",
                                  doc="connect and read timeout towards the SMTP server, seconds")


@dataclass
class Config:
    store: DocumentStore
    channel: Channel
    sender: str
    max_attempts: int = 6
    retry_base: float = 30.0
    retry_cap: float = 6 * 3600.0
    lease: float = 60.0

    def backoff(self, attempts: int) -> datetime.timedelta:
        """base, 2 x base, 4 x base ... after the n-th failed attempt, capped."""
        return datetime.timedelta(seconds=min(self.retry_base * 2 ** max(attempts - 1, 0), self.retry_cap))


runtime: Runtime[Config] = Runtime("notifications")


def get() -> Config:
    return runtime.get()


def build_store(settings: NotificationsSettings, redis_url: str | None, namespace: str) -> DocumentStore:
    retention = datetime.timedelta(seconds=settings.retention)
    if redis_url:
        from ecommerce.modules.notifications.redis_store import RedisDocumentStore

        return RedisDocumentStore(redis_url, namespace, retention)
    from ecommerce.modules.notifications.sql_store import SqlDocumentStore

    return SqlDocumentStore(database, retention)


def build_channel(settings: NotificationsSettings, data_dir: Path) -> Channel:
    if settings.smtp_host:
        return SmtpChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_user,
                           settings.smtp_password, settings.smtp_starttls, settings.smtp_timeout)
    return MailboxChannel(data_dir / "mailbox")


def setup(context: ModuleContext[NotificationsSettings]) -> None:
    """The module's start: build the store, the channel and the retry policy from its settings."""
    settings = context.settings
    store = build_store(settings, context.redis_url, context.namespace)
    runtime.start(Config(store, build_channel(settings, context.data_dir), settings.smtp_from,
                         max_attempts=settings.max_attempts, retry_base=settings.retry_base))
