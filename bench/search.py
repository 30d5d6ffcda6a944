"""Search benchmark: what indexing a message and answering a search cost, with the
default design (an inverted index in DynamoDB, services/search) measured against the
alternative of per-user SQLite FTS5 segments kept in S3.

    python -m bench.search [--large 20000] [--repeats 21]

DynamoDB: exact call counts, capacity estimated as DynamoDB bills it (devstack/calls.py),
bytes of the items the calls returned, and in-process time split into the time spent
inside AWS calls (moto, in process) and the rest (the API's own code). The corpora of
200 and `--large` messages are built straight into moto's storage (devstack/mailfill)
with the postings and docs the indexer writes for them (same functions, same items),
because indexing 20,000 messages call by call through moto takes longer than the
measurement. One realistic message (a 2 KB body) is indexed through the stream handler
to measure the cost per message.

SQLite FTS5: the same messages in one FTS5 table per user (a segment), its size being
what a search downloads from S3 when the Lambda has no cached copy and what indexing
uploads again (every new message rewrites the user's segment, or adds a delta segment
that a search must also fetch), and its in-process query time.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator
from unittest import mock

from bench.harness import setup

# On-demand list prices, us-east-1 (USD).
WRITE_UNIT = 1.25 / 1e6
READ_UNIT = 0.25 / 1e6
S3_PUT = 0.005 / 1000
S3_GET = 0.0004 / 1000
LAMBDA_GB_S = 0.0000166667
DDB_GB_MONTH = 0.25
S3_GB_MONTH = 0.023

BODY = " ".join(
    "Dear team, the quarterly report is attached below. Revenue grew in every region "
    "except the north, where shipping delays held back deliveries until October. "
    "Please review the figures before Thursday's meeting and send corrections to "
    "finance. Crème brûlée and coffee will be served; bring questions about the "
    "budget, hiring plans, the new office in Lisbon and the customer survey results."
    .split() * 6)


@dataclass
class Calls:
    operations: dict[str, int] = field(default_factory=dict)
    capacity: float = 0.0
    bytes_returned: int = 0
    aws_seconds: float = 0.0
    seconds: float = 0.0
    extra_capacity: float = 0.0

    def line(self, name: str) -> str:
        ops = ", ".join(f"{op} {n}" for op, n in sorted(self.operations.items())) or "-"
        own = (self.seconds - self.aws_seconds) * 1000
        return (f"{name:<52} {ops:<58} {self.capacity:>8.1f} {self.bytes_returned:>10,} "
                f"{self.seconds * 1000:>8.1f} {own:>8.1f}")


POSTING_BYTES = 162  # a posting as DynamoDB sizes it (devstack.calls.item_size of one)


def _unbilled(operation: str, params: dict[str, Any], response: dict[str, Any]) -> float:
    """What devstack.calls does not estimate: items a Query read but did not return
    (a filter, Select=COUNT; DynamoDB bills what it read, sized here as postings), and
    BatchWriteItem (moto reports no capacity for it: 1 unit per started KB per put,
    1 per delete)."""
    from devstack.calls import item_size
    if operation == "Query":
        unseen = int(response.get("ScannedCount", 0)) - len(response.get("Items", []))
        factor = 1.0 if params.get("ConsistentRead") else 0.5
        return max(0, unseen) * POSTING_BYTES / 4096 * factor
    if operation == "BatchWriteItem":
        units = 0.0
        for requests in params.get("RequestItems", {}).values():
            for request in requests:
                put = request.get("PutRequest")
                units += -(-item_size(put["Item"]) // 1024) if put else 1
        return units
    return 0.0


@contextmanager
def measured() -> Iterator[Calls]:
    """Calls (with capacity), bytes of returned items, time inside AWS calls."""
    from botocore.client import BaseClient

    from devstack.calls import counting, item_size
    result = Calls()
    with counting(measure_capacity=True) as log:
        timed = BaseClient._make_api_call

        def wrapper(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            started = time.perf_counter()
            response = timed(client, operation, params)
            result.aws_seconds += time.perf_counter() - started
            items = response.get("Items") or [response.get("Item") or {}]
            for batch in (response.get("Responses") or {}).values():
                items = items + batch
            result.bytes_returned += sum(item_size(i) for i in items if i)
            result.extra_capacity += _unbilled(operation, params, response)
            return response

        started = time.perf_counter()
        with mock.patch.object(BaseClient, "_make_api_call", wrapper):
            yield result
        result.seconds = time.perf_counter() - started
    result.capacity = log.capacity + result.extra_capacity
    result.operations = {f"{s}:{o}" if s != "dynamodb" else o: 0 for s, o in log.calls}
    for service, operation in log.calls:
        result.operations[f"{service}:{operation}" if service != "dynamodb" else operation] += 1


def fts_segment(texts: list[tuple[int, str]]) -> tuple[int, float, int]:
    """(segment bytes, p50 ms of first page + count of a common word, matches)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "segment.db")
        db = sqlite3.connect(path)
        db.execute("CREATE VIRTUAL TABLE m USING fts5(body, idate UNINDEXED, "
                   "tokenize='unicode61 remove_diacritics 2')")
        db.executemany("INSERT INTO m(rowid, body, idate) VALUES (?, ?, ?)",
                       [(n, text, n) for n, text in texts])
        db.commit()
        db.execute("INSERT INTO m(m) VALUES('optimize')")
        db.commit()
        db.close()
        size = os.path.getsize(path)
        samples = []
        for _ in range(11):
            started = time.perf_counter()
            db = sqlite3.connect(path)  # a search opens the downloaded segment
            page = db.execute("SELECT rowid FROM m WHERE m MATCH 'hello' ORDER BY idate DESC "
                              "LIMIT 21").fetchall()
            total = db.execute("SELECT count(*) FROM m WHERE m MATCH 'hello'").fetchone()[0]
            db.close()
            samples.append((time.perf_counter() - started) * 1000)
        assert len(page) == 21
        return size, statistics.median(samples), total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    from devstack.motopatch import install
    install()
    client = setup()

    import app as app_module
    from chalicelib.services.search.indexer import message_text
    from chalicelib.services.search.text import terms_of
    from chalicelib.store.mailboxes import MailboxItem
    from chalicelib.store.messages import MessageItem
    from devstack.mailfill import preload_index, preload_mailbox
    from tests.support import MessagesStream

    def call(method: str, path: str, body: Any = None, raw: bytes | None = None) -> Any:
        headers = {"content-type": "message/rfc822" if raw is not None else "application/json"}
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = client.http.request(method, path, headers=headers, body=payload)
        return json.loads(response.body)

    user = call("POST", "/users", {"username": "benchsearch", "password": "x" * 12})["id"]
    boxes = {box.path: box.id for box in MailboxItem.query(user)}
    stream = MessagesStream()

    def index_pending(name: str) -> Calls:
        records = stream.read()
        with measured() as calls:
            assert app_module.messages_stream({"Records": records}, None) == {
                "batchItemFailures": []}
        print(calls.line(f"{name} ({len(records)} record)"))
        return calls

    print(f"{'what':<52} {'calls':<58} {'capacity':>8} {'bytes':>10} {'ms':>8} {'own ms':>8}")
    raw = ("From: Ana Núñez <ana@example.com>\r\nTo: benchsearch@example.com\r\n"
           "Subject: Quarterly report\r\n\r\n" + BODY + "\r\n").encode()
    inbox = boxes["INBOX"]
    uploaded = call("POST", f"/users/{user}/mailboxes/{inbox}/messages", raw=raw)["message"]
    one = index_pending("index 1 uploaded message (2 KB body)")
    terms = len(terms_of(message_text(next(MessageItem.query(inbox)))))
    flagged = call("PUT", f"/users/{user}/mailboxes/{inbox}/messages/{uploaded['id']}",
                   {"flagged": True})
    assert flagged.get("success")
    index_pending("flag change")
    moved = call("PUT", f"/users/{user}/mailboxes/{inbox}/messages/{uploaded['id']}",
                 {"moveTo": boxes["Sent Mail"]})
    move = index_pending("move (REMOVE + INSERT)")
    call("DELETE", f"/users/{user}/mailboxes/{boxes['Sent Mail']}/messages/{moved['id'][0][1]}")
    index_pending("delete")

    results: dict[int, dict[str, Calls]] = {}
    for size, box in ((200, boxes["Drafts"]), (args.large, inbox)):
        started = time.monotonic()
        preload_mailbox(user, box, size)
        postings = preload_index(user, box)
        print(f"\n{size:,} messages ({postings:,} postings) built in "
              f"{time.monotonic() - started:.0f} s")
        base = f"/users/{user}/search?mailbox={box}"
        queries = {
            "one common word, first page": f"{base}&query=hello",
            "one common word, second page": None,
            "one rare word": f"{base}&query=000150",
            "two common words": f"{base}&query=hello+number",
            "common word + unseen": f"{base}&query=hello&unseen=true",
            "phrase": f"{base}&query=%22message+number+000150%22",
            "no words, unseen only": f"{base}&unseen=true",
        }
        results[size] = {}
        first = None
        for name, path in queries.items():
            if path is None:
                path = f"{base}&query=hello&next={first['nextCursor']}"
            with measured() as calls:
                answer = call("GET", path)
            assert answer.get("success"), answer
            first = first or answer
            results[size][name] = calls
            print(calls.line(f"{name} (total {answer['total']:,})"))
        samples, own = [], []
        for _ in range(args.repeats):
            with measured() as calls:
                call("GET", f"{base}&query=hello")
            samples.append(calls.seconds * 1000)
            own.append((calls.seconds - calls.aws_seconds) * 1000)
        tracemalloc.start()
        call("GET", f"{base}&query=hello")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"first page of 'hello' x{args.repeats}: p50 {statistics.median(samples):.1f} ms "
              f"in process, {statistics.median(own):.1f} ms outside AWS calls (moto); "
              f"peak traced memory {peak / 1e6:.1f} MB")

    print("\nSQLite FTS5 segment per user (same texts)")
    corpus = [message_text(item) for item in MessageItem.query(inbox)]
    for size in (200, args.large):
        texts = list(enumerate(corpus[:size]))
        nbytes, p50, total = fts_segment(texts)
        print(f"{size:>7,} messages: segment {nbytes / 1e6:.2f} MB; first page + count "
              f"p50 {p50:.2f} ms ({total:,} matches, once downloaded); per search without a "
              f"warm copy: 1 GET of {nbytes / 1e6:.2f} MB; per indexed message: 1 GET + 1 PUT "
              f"of it (${(S3_GET + S3_PUT):.7f} + transfer time)")

    writes = one.capacity
    print(f"\nper indexed message: {writes:.0f} capacity units for {terms} distinct terms "
          f"= ${writes * WRITE_UNIT:.6f} (priced as writes); a move {move.capacity:.0f} units = "
          f"${move.capacity * WRITE_UNIT:.6f}; a flag change: nothing")
    for size, rows in results.items():
        page = rows["one common word, first page"].capacity
        print(f"{size:>7,} messages: first page of a common word {page:.1f} read units = "
              f"${page * READ_UNIT:.8f}")


if __name__ == "__main__":
    main()
