"""The mailbox channel writes each email where a reader listing ``*.eml`` only ever finds whole messages."""

from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path

import pytest

from ecommerce.modules.notifications import channels
from ecommerce.modules.notifications.channels import MailboxChannel


def _message(notification_id: str) -> EmailMessage:
    message = EmailMessage()
    message["X-Notification-Id"] = notification_id
    message["Subject"] = "Your order"
    message.set_content("Thank you.")
    return message


def test_a_message_being_written_is_not_an_eml_until_it_is_whole(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """What a reader sees at the instant before the rename: the written bytes under a name no ``*.eml``
    listing matches (two instances' relays and a test listing the folder once raced on exactly that)."""
    seen: list[tuple[list[str], list[str]]] = []
    rename = os.replace

    def watching(source: str, target: str) -> None:
        seen.append((sorted(p.name for p in tmp_path.glob("*.eml")), sorted(p.name for p in tmp_path.iterdir())))
        rename(source, target)

    monkeypatch.setattr(channels.os, "replace", watching)
    MailboxChannel(tmp_path).send(_message("n-1"))
    [(emails, everything)] = seen
    assert emails == [] and len(everything) == 1 and everything[0].endswith(".part")
    assert [p.name for p in tmp_path.iterdir()] == ["n-1.eml"]
    assert "Thank you." in (tmp_path / "n-1.eml").read_text()


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(channels.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        MailboxChannel(tmp_path).send(_message("n-2"))
    assert list(tmp_path.iterdir()) == []
