"""The notifications module's settings: what it works with once started, chosen from the settings by the
module's setup: the document store (Redis when ``ECOMMERCE_REDIS_URL`` is set, else the embedded SQL
store), the email channel (SMTP when ``ECOMMERCE_SMTP_HOST`` is set, else the mailbox directory) and the
retry policy."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ecommerce.kernel.settings import Settings
from ecommerce.modules.notifications.channels import Channel, MailboxChannel, SmtpChannel
from ecommerce.modules.notifications.documents import DocumentStore
from ecommerce.modules.notifications.models import database


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


_config: Config | None = None


def build_store(settings: Settings) -> DocumentStore:
    retention = datetime.timedelta(seconds=settings.notification_retention)
    if settings.redis_url:
        from ecommerce.modules.notifications.redis_store import RedisDocumentStore

        return RedisDocumentStore(settings.redis_url, settings.rate_limit_namespace, retention)
    from ecommerce.modules.notifications.sql_store import SqlDocumentStore

    return SqlDocumentStore(database, retention)


def build_channel(settings: Settings) -> Channel:
    if settings.smtp_host:
        return SmtpChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_user,
                           settings.smtp_password, settings.smtp_starttls, settings.smtp_timeout)
    return MailboxChannel(settings.data_dir / "mailbox")


def from_settings(settings: Settings) -> Config:
    return Config(build_store(settings), build_channel(settings), settings.smtp_from,
                  max_attempts=settings.notification_max_attempts, retry_base=settings.notification_retry_base)


def configure(config: Config) -> None:
    global _config
    _config = config


def get() -> Config:
    if _config is None:
        raise RuntimeError("notifications module is not set up: start the kernel with ecommerce.bootstrap()")
    return _config
