"""Shared set-up for the message tests: an account with its default mailboxes."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support import Account, mailbox_ids


@pytest.fixture
def account(make_user: Any) -> Account:
    user_id = make_user("mailuser", address="mailuser@example.com")
    return Account(user_id, mailbox_ids(user_id))
