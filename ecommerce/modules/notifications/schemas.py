"""Schemas of the notifications module."""

from __future__ import annotations

from pydantic import Field

from ecommerce.kernel.schema import ApiModel


class NotificationOut(ApiModel):
    id: str = Field(description="UUID; the same event always yields the same id")
    channel: str = Field(description="email")
    template: str = Field(description="welcome, order_placed, order_shipped, ... (what it is about)")
    subject: str
    body: str
    status: str = Field(description="pending (not sent yet or retrying), sent or failed")
    read: bool
    created_at: str
    sent_at: str | None
    read_at: str | None


class NotificationPage(ApiModel):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int = Field(description="How many of my notifications are unread (all pages)")
