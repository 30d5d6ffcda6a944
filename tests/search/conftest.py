"""The search tests' view of the messages stream: read as Lambda reads it (moto's real
records), handed to the app's handler whole, duplicated or shuffled."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support import Account, MessagesStream, simple_message, upload_raw


@pytest.fixture
def stream() -> MessagesStream:
    return MessagesStream()


@pytest.fixture
def put(api: Any, account: Account) -> Any:
    """Upload a message (subject, body, extra headers) to a mailbox (by path); its uid."""
    def upload(subject: str = "Hello", body: str = "Hi there", box: str | None = None,
               extra: str = "", query: str = "") -> int:
        reply = upload_raw(api, account, simple_message(subject, body, extra=extra),
                           account.boxes[box] if box else None, query=query)
        assert reply.status == 200, reply
        return int(reply["message"]["id"])
    return upload


@pytest.fixture
def find(api: Any, account: Account) -> Any:
    """GET /users/{user}/search with these parameters; the answer (asserted 200)."""
    def run(**params: Any) -> Any:
        from urllib.parse import urlencode
        reply = api.get(f"/users/{account.id}/search?{urlencode(params)}")
        assert reply.status == 200, reply
        return reply
    return run
