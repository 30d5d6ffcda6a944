"""Call budgets of the updates channel (the numbers bench/realtime.py prints)."""
from __future__ import annotations

import threading
import time

import pytest

from chalicelib.config import reset_settings
from chalicelib.services.realtime import journal_reader, updates, websockets
from chalicelib.store import connections, journal
from chalicelib.store.journal import JournalItem
from chalicelib.streams import Change
from devstack.calls import counting
from tests.realtime.conftest import put_entry


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def fill(user: str, count: int, mailbox: str) -> None:
    """`count` entries after the account's newest, written in batches."""
    first = journal.reserve(user, count).first
    now = time.time()
    with JournalItem.batch_write() as batch:
        for seq in range(first, first + count):
            batch.save(JournalItem(user=user, seq=seq, command="EXISTS",
                                   data={"mailbox": mailbox, "uid": seq},
                                   created=int(now * 1000), expires=int(now) + 3600))


def test_an_idle_long_poll_reads_the_journal_a_bounded_number_of_times(account):
    clock = FakeClock()
    with counting() as log:
        answer = updates.poll(account.id, 0, wait_s=20, poll_s=2, clock=clock,
                              sleep=clock.sleep)
    assert answer.events == [] and clock.now == 20
    # 1 read at once, then one every 2 s until the 20 s are up: 11 Query, and the
    # account's GetItem. A client that reconnects at once: 3 polls, 33 Query a minute.
    assert log.by_operation() == {"GetItem": 1, "Query": 11}


# One Query per page of PAGE (100) entries. (DynamoDB, unlike moto, also answers a
# LastEvaluatedKey when a page ends exactly at the last entry: one more, empty, Query.)
@pytest.mark.parametrize("missed,queries", [(5, 1), (100, 1), (250, 3)])
def test_a_resume_costs_one_query_per_page(account, missed, queries):
    put_entry(account.id, journal.reserve(account.id, 1).first)
    fill(account.id, missed, account.inbox)
    with counting() as log:
        answer = updates.poll(account.id, 1, wait_s=20, poll_s=2)
    assert len(answer.events) == missed + 1  # + COUNTERS of the one mailbox
    assert -(-missed // journal_reader.PAGE) == queries
    assert log.by_operation() == {"GetItem": 1, "Query": queries, "BatchGetItem": 1}


def test_fan_out_of_one_entry_is_one_query_and_a_post_per_connection(account, monkeypatch):
    monkeypatch.setenv("WEBSOCKET_ENDPOINT", "https://example.execute-api.us-east-1."
                                             "amazonaws.com/api")
    reset_settings()
    for n in range(3):
        connections.subscribe(connections.opened(f"conn{n}=", "*"), account.id, 0)
    change = Change("journal", "INSERT", {"user": account.id, "seq": 1},
                    {"user": account.id, "seq": 1, "command": "CREATE",
                     "data": {"mailbox": "m", "path": "p"}, "created": 0, "expires": 0},
                    None, "100")
    with counting() as log:
        assert websockets.on_journal([change]) == []
    assert log.by_operation() == {"Query": 1}
    assert log.by_operation("apigatewaymanagementapi") == {"PostToConnection": 3}


def test_a_long_poll_answers_as_soon_as_an_entry_arrives(account, serialized_aws):
    def write_later() -> None:
        time.sleep(0.3)
        put_entry(account.id, journal.reserve(account.id, 1).first)

    writer = threading.Thread(target=write_later)
    writer.start()
    started = time.monotonic()
    answer = updates.poll(account.id, None, wait_s=5, poll_s=0.05)
    writer.join()
    assert [seq for seq, _ in answer.events] == [1]  # live: no COUNTERS
    assert time.monotonic() - started < 2


def test_a_subscription_with_a_replay(account):
    endpoint = "https://example.execute-api.us-east-1.amazonaws.com/api"
    first = journal.reserve(account.id, 4).first
    for seq in range(first, first + 4):
        put_entry(account.id, seq, "EXISTS", {"mailbox": account.inbox, "uid": seq})
    connections.opened("sub=", "*")
    with counting() as log:
        websockets.subscribe("sub=", account.id, 1, endpoint)
    # the connection and the account, the subscription, the index shows it, the journal
    # from 1, the COUNTERS; then subscribed + 3 entries + COUNTERS
    assert log.by_operation() == {"GetItem": 2, "UpdateItem": 1, "Query": 2,
                                  "BatchGetItem": 1}
    assert log.by_operation("apigatewaymanagementapi") == {"PostToConnection": 5}
