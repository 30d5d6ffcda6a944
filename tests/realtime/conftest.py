"""Helpers of the updates-channel tests: read the stream, write journal entries by hand."""
from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.store import journal
from chalicelib.store.journal import JournalItem
from tests.support import parse_event_stream


class Stream:
    """An EventSource client over the test client: remembers its last event id."""

    def __init__(self, api: Any, user: str, headers: dict[str, str] | None = None) -> None:
        self.api, self.user, self.headers = api, user, headers or {}
        self.last_id: str | None = None

    def poll(self, **headers: str) -> list[dict[str, Any]]:
        sent = dict(self.headers, **headers)
        if self.last_id is not None:
            sent["Last-Event-ID"] = self.last_id
        reply = self.api.get(f"/users/{self.user}/updates", headers=sent)
        assert reply.status == 200, reply
        assert reply.headers["Content-Type"].startswith("text/event-stream")
        events, last_id, retry = parse_event_stream(reply.raw.decode())
        assert retry is not None
        if last_id is not None:
            self.last_id = last_id
        return [event.data for event in events]


@pytest.fixture
def stream(api):
    return lambda user, **kw: Stream(api, user, **kw)


def put_entry(user: str, seq: int, command: str = "CREATE", data: dict | None = None,
              age_s: float = 0, expires_in: float = journal.TTL_SECONDS) -> None:
    """A journal entry written by hand (its number must have been claimed)."""
    now = time.time()
    JournalItem(user=user, seq=seq, command=command, data=data or {"mailbox": "m", "path": "p"},
                created=int((now - age_s) * 1000), expires=int(now + expires_in)).save()
