"""Helpers every test module shares: races, mail samples, an account's mailboxes.

Fixtures stay in the conftest files; plain functions and values live here so that any
test (in-process, end to end, benchmarks' checks) imports them from one place.
"""
from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

import boto3

from chalicelib.config import settings
from chalicelib.store.mailboxes import MailboxItem
from devstack.streams import lambda_record

T = TypeVar("T")
FIXTURES = Path(__file__).parent / "messages" / "fixtures"


def race(count: int, work: Callable[[int], T]) -> tuple[list[T], list[Exception]]:
    """Run `work(0..count-1)` on `count` threads released together; the results and the
    errors, each in completion order."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    errors: list[Exception] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            results.append(work(index))
        except Exception as error:  # noqa: BLE001 - collected for the assertions
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


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


def upload_raw(api: Any, account: Account, raw: bytes, box: str | None = None,
               query: str = "") -> Any:
    path = account.messages(box) + (f"?{query}" if query else "")
    return api.call("POST", path, raw=raw, headers={"content-type": "message/rfc822"})


@dataclass
class ServerEvent:
    """One dispatched EventSource event: its data (parsed JSON) and the last event id
    in force when it was dispatched, as a browser's EventSource reports them."""

    data: Any
    last_id: str


def parse_event_stream(text: str) -> tuple[list[ServerEvent], str | None, int | None]:
    """Parse `text/event-stream` as an EventSource does: the events dispatched, the last
    event id at the end (None if never set) and the `retry:` hint."""
    events: list[ServerEvent] = []
    last_id: str | None = None
    pending_id: str | None = None
    data: list[str] = []
    retry: int | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if line == "":
            if pending_id is not None:
                last_id = pending_id
            if data:
                events.append(ServerEvent(json.loads("\n".join(data)), last_id or ""))
            data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "id":
            pending_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
    return events, last_id, retry


def sent_mail() -> list[dict[str, Any]]:
    """What moto's SES accepted during this test, oldest first (devstack/sent.describe)."""
    from devstack.sent import sent_in_process
    return sent_in_process(settings().region)


class MessagesStream:
    """The messages table's stream read as Lambda reads it (moto's real records), handed
    to the app's handler whole, duplicated or shuffled."""

    def __init__(self) -> None:
        config = settings()
        self.client = boto3.client("dynamodbstreams", region_name=config.region)
        self.arn = boto3.client("dynamodb", region_name=config.region).describe_table(
            TableName=config.table("messages"))["Table"]["LatestStreamArn"]
        shard = self.client.describe_stream(StreamArn=self.arn)[
            "StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.client.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]

    def read(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        while True:
            answer = self.client.get_records(ShardIterator=self.iterator)
            self.iterator = answer["NextShardIterator"]
            if not answer["Records"]:
                return records
            records += [lambda_record(r, self.arn) for r in answer["Records"]]

    def deliver(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        import app as app_module
        return app_module.messages_stream({"Records": records}, None)

    def pump(self, rng: random.Random | None = None) -> None:
        """Everything new, in order (or, given `rng`, duplicated and shuffled)."""
        records = self.read()
        if rng is not None:
            records = records + rng.sample(records, k=len(records) // 2)
            rng.shuffle(records)
        assert self.deliver(records) == {"batchItemFailures": []}
