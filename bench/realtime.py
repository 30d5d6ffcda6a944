"""Updates-channel benchmark: AWS calls of the EventSource long-poll and of the
websocket fan-out, against moto with the real tables (call counts are exact; capacity
is estimated as DynamoDB bills it, see devstack/calls.py).

- an idle long-poll: Query calls per poll and per minute (a fake clock runs the waits);
- a resume with N missed entries: 1 Query per page of 100 (+ the account's GetItem and
  one BatchGetItem of the COUNTERS);
- the fan-out of one journal entry to an account with N connections: 1 Query + N posts.

Run with `make bench` or `python -m bench.realtime`.
"""
from __future__ import annotations

import time
from typing import Any

from bench.harness import setup


def _calls(log: Any) -> str:
    ddb = ", ".join(f"{op} {n}" for op, n in sorted(log.by_operation("dynamodb").items()))
    api = log.by_operation("apigatewaymanagementapi").get("PostToConnection", 0)
    return f"{ddb or '-':<42} posts {api:<4} {log.capacity:>6.1f} CU"


def main() -> None:
    import os
    os.environ["WEBSOCKET_ENDPOINT"] = "https://bench.execute-api.us-east-1.amazonaws.com/api"
    client = setup()
    import json

    from chalicelib.config import settings
    from chalicelib.services.realtime import updates, websockets
    from chalicelib.store import connections, journal
    from chalicelib.store.journal import JournalItem
    from chalicelib.store.mailboxes import MailboxItem
    from chalicelib.streams import Change
    from devstack.calls import counting

    reply = client.http.request("POST", "/users", headers={"content-type": "application/json"},
                                body=json.dumps({"username": "benchrt", "password": "x" * 12}))
    user = json.loads(reply.body)["id"]
    inbox = next(box.id for box in MailboxItem.query(user) if box.path == "INBOX")
    config = settings()

    class Clock:
        now = 0.0

    def fill(count: int) -> int:
        first = journal.reserve(user, count).first
        now = time.time()
        with JournalItem.batch_write() as batch:
            for seq in range(first, first + count):
                batch.save(JournalItem(user=user, seq=seq, command="EXISTS",
                                       data={"mailbox": inbox, "uid": seq, "message": "m" * 24,
                                             "idate": int(now * 1000), "thread": "t" * 24},
                                       created=int(now * 1000), expires=int(now) + 3600))
        return first + count - 1

    print(f"{'updates channel':<46} {'DynamoDB calls':<42} {'':<10} {'capacity':>9}")
    newest = fill(1)
    with counting(measure_capacity=True) as log:
        def sleep(seconds: float) -> None:
            Clock.now += seconds
        updates.poll(user, newest, wait_s=config.updates_wait_s, poll_s=config.updates_poll_s,
                     clock=lambda: Clock.now, sleep=sleep)
    per_poll = log.by_operation()["Query"]
    polls = 60 / config.updates_wait_s
    print(f"{'idle long-poll (%gs, read every %gs)' % (config.updates_wait_s, config.updates_poll_s):<46} "
          f"{_calls(log)}")
    print(f"{'  = Query per idle minute':<46} {per_poll * polls:.0f} "
          f"({per_poll} per poll, {polls:g} polls; + {polls:g} GetItem)")
    for missed in (1, 100, 250, 1000):
        after = newest
        newest = fill(missed)
        with counting(measure_capacity=True) as log:
            answer = updates.poll(user, after, wait_s=0, poll_s=1)
        assert len(answer.events) == missed + 1
        print(f"{f'resume with {missed} missed entries':<46} {_calls(log)}")
    for count in (1, 10, 100):
        for n in range(count):
            connections.subscribe(connections.opened(f"b{count}-{n}=", "*"), user, newest)
        change = Change("journal", "INSERT", {}, {
            "user": user, "seq": newest + 1, "command": "FETCH", "created": 0, "expires": 0,
            "data": {"mailbox": inbox, "uid": 1, "flags": ["\\Seen"]}}, None, "1")
        with counting(measure_capacity=True) as log:
            websockets.on_journal([change])
        print(f"{f'fan-out of 1 entry to {count} connections':<46} {_calls(log)}")
        for n in range(count):
            connections.closed(f"b{count}-{n}=")


if __name__ == "__main__":
    main()
