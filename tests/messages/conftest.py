"""Shared set-up for the message tests: an account with its default mailboxes, and
helpers that upload through the API."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chalicelib.store.mailboxes import MailboxItem

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Account:
    id: str
    boxes: dict[str, str]  # INBOX, Sent Mail, Trash, Drafts, Junk -> id

    @property
    def inbox(self) -> str:
        return self.boxes["INBOX"]

    def messages(self, box: str | None = None) -> str:
        return f"/users/{self.id}/mailboxes/{box or self.inbox}/messages"


def mailbox_ids(user_id: str) -> dict[str, str]:
    return {box.path: box.id for box in MailboxItem.query(user_id)}


@pytest.fixture
def account(make_user: Any) -> Account:
    user_id = make_user("mailuser", address="mailuser@example.com")
    return Account(user_id, mailbox_ids(user_id))


def simple_message(subject: str = "Hello", body: str = "Hi there", *,
                   message_id: str | None = None, extra: str = "") -> bytes:
    lines = ["From: Sender <sender@example.com>", "To: mailuser@example.com",
             f"Subject: {subject}", "Date: Tue, 9 Apr 2024 11:11:33 +0200"]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    if extra:
        lines.append(extra.rstrip("\r\n"))
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()


def upload_raw(api: Any, account: Account, raw: bytes, box: str | None = None,
               query: str = "") -> Any:
    path = account.messages(box) + (f"?{query}" if query else "")
    return api.call("POST", path, raw=raw, headers={"content-type": "message/rfc822"})
