"""The updates channel end to end on the local stack (`make run`): the EventSource
long-poll over HTTP, and websockets through the dev bridge, fed by the journal stream
pumped from the moto server."""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

import boto3
import pytest
import requests
from websockets.sync.client import connect

from tests.e2e.stack import TOKEN, call, free_port, local_stack
from tests.support import parse_event_stream, simple_message

PORTS: dict[str, int] = {}


@pytest.fixture(scope="module")
def stack() -> Iterator[str]:
    PORTS.update(ws=free_port(), moto=free_port())
    with local_stack({"WS_PORT": str(PORTS["ws"]), "MOTO_PORT": str(PORTS["moto"]),
                      "UPDATES_WAIT_S": "3", "UPDATES_POLL_S": "0.2"}) as base:
        yield base


class EventSource:
    """What a browser's EventSource does with this API: GET with `Last-Event-ID`, read
    the stream, remember the last id, reconnect."""

    def __init__(self, base: str, user: str) -> None:
        self.url = f"{base}/users/{user}/updates"
        self.last_id: str | None = None

    def poll(self) -> list[dict[str, Any]]:
        headers = {"Accept": "text/event-stream", "X-Access-Token": TOKEN}
        if self.last_id is not None:
            headers["Last-Event-ID"] = self.last_id
        with requests.get(self.url, headers=headers, stream=True, timeout=30) as reply:
            assert reply.status_code == 200, reply.text
            assert reply.headers["Content-Type"].startswith("text/event-stream")
            text = b"".join(reply.iter_content(chunk_size=None)).decode()
        events, last_id, retry = parse_event_stream(text)
        assert retry is not None
        self.last_id = last_id if last_id is not None else self.last_id
        return [event.data for event in events]

    def collect(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        """Poll until `count` journal entries arrived (COUNTERS aside)."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len([e for e in got if e["command"] != "COUNTERS"]) < count:
            assert time.monotonic() < deadline, got
            got += self.poll()
        return got


def new_account(base: str, name: str) -> tuple[str, str]:
    user = call(base, "POST", "/users", {"username": name, "password": "secretpass"}).json()["id"]
    boxes = call(base, "GET", f"/users/{user}/mailboxes").json()["results"]
    return user, next(box["id"] for box in boxes if box["path"] == "INBOX")


def upload(base: str, user: str, inbox: str, subject: str) -> None:
    reply = requests.post(f"{base}/users/{user}/mailboxes/{inbox}/messages",
                          data=simple_message(subject),
                          headers={"X-Access-Token": TOKEN, "Content-Type": "message/rfc822"},
                          timeout=30)
    assert reply.status_code == 200, reply.text


def changes(base: str, user: str, inbox: str) -> str:
    """Upload, flag, create and rename a mailbox: EXISTS, FETCH, CREATE, RENAME."""
    upload(base, user, inbox, "first")
    call(base, "PUT", f"/users/{user}/mailboxes/{inbox}/messages/1", {"flagged": True})
    box = call(base, "POST", f"/users/{user}/mailboxes", {"path": "Work"}).json()["id"]
    call(base, "PUT", f"/users/{user}/mailboxes/{box}", {"path": "Done"})
    return box


def three_more(base: str, user: str, inbox: str) -> None:
    upload(base, user, inbox, "second")
    call(base, "PUT", f"/users/{user}/mailboxes/{inbox}/messages/2", {"seen": False})
    call(base, "POST", f"/users/{user}/mailboxes", {"path": "Later"})


def entries(events: list[dict[str, Any]]) -> list[str]:
    return [event["command"] for event in events if event["command"] != "COUNTERS"]


def test_event_source_long_poll(stack):
    user, inbox = new_account(stack, "ssereader")
    source = EventSource(stack, user)
    assert source.poll() == [] and source.last_id == "0"
    live: list[dict[str, Any]] = []
    waiting = threading.Thread(target=lambda: live.extend(source.poll()))
    waiting.start()
    time.sleep(0.5)  # the poll is waiting for news
    upload(stack, user, inbox, "first")
    waiting.join()
    assert [event["command"] for event in live] == ["EXISTS"]  # live: no COUNTERS
    assert live[0]["uid"] == 1 and source.last_id == "1"
    call(stack, "PUT", f"/users/{user}/mailboxes/{inbox}/messages/1", {"flagged": True})
    assert entries(source.collect(1)) == ["FETCH"]
    box = call(stack, "POST", f"/users/{user}/mailboxes", {"path": "Work"}).json()["id"]
    call(stack, "PUT", f"/users/{user}/mailboxes/{box}", {"path": "Done"})
    created, renamed = [e for e in source.collect(2) if e["command"] != "COUNTERS"]
    assert (created["command"], renamed["command"]) == ("CREATE", "RENAME")
    assert renamed == {"command": "RENAME", "mailbox": box, "path": "Done"}
    # away: three changes, then back with the last id
    three_more(stack, user, inbox)
    events = source.poll()
    assert [e["command"] for e in events] == ["EXISTS", "FETCH", "CREATE", "COUNTERS"]
    assert events[-1] == {"command": "COUNTERS", "mailbox": inbox, "total": 2, "unseen": 1}
    assert source.last_id == "7"


@contextmanager
def ws_connect(user: str, last_id: int | None = None) -> Iterator[Any]:
    """A websocket client of the bridge, subscribed to `user`."""
    with connect(f"ws://127.0.0.1:{PORTS['ws']}/?accessToken={TOKEN}",
                 open_timeout=10) as socket:
        socket.send(json.dumps({"action": "subscribe", "user": user,
                                **({"lastEventId": last_id} if last_id is not None else {})}))
        yield socket


def receive(socket: Any, count: int, timeout: float = 10) -> list[dict[str, Any]]:
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        got.append(json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic()))))
    return got


def test_websockets_through_the_bridge(stack):
    user, inbox = new_account(stack, "wsreader")
    other, _ = new_account(stack, "wsother")
    with ws_connect(user) as mine, ws_connect(other) as theirs:
        assert receive(mine, 1) == [{"action": "subscribed", "user": user, "id": 0}]
        receive(theirs, 1)
        box = changes(stack, user, inbox)
        got = receive(mine, 4)
        assert [(m["id"], m["command"]) for m in got] == [
            (1, "EXISTS"), (2, "FETCH"), (3, "CREATE"), (4, "RENAME")]
        assert got[3] == {"id": 4, "command": "RENAME", "mailbox": box, "path": "Done"}
        with pytest.raises(TimeoutError):
            theirs.recv(timeout=1)  # another account's subscriber hears nothing
    # away: three changes, then back with the last id
    three_more(stack, user, inbox)
    with ws_connect(user, last_id=4) as back:
        got = receive(back, 5)
        assert got[0] == {"action": "subscribed", "user": user, "id": 7}
        assert [(m["id"], m["command"]) for m in got[1:4]] == [
            (5, "EXISTS"), (6, "FETCH"), (7, "CREATE")]
        assert got[4] == {"command": "COUNTERS", "mailbox": inbox, "total": 2, "unseen": 1}
        # a connection API Gateway no longer has (closed without $disconnect)
        table = boto3.resource("dynamodb", endpoint_url=f"http://127.0.0.1:{PORTS['moto']}",
                               region_name="us-east-1", aws_access_key_id="local",
                               aws_secret_access_key="local").Table("wildduck-local-connections")
        table.put_item(Item={"id": "ghost=", "principal": "*", "user": user, "since": 0,
                             "created": 0, "expires": int(time.time()) + 3600})
        upload(stack, user, inbox, "third")
        assert receive(back, 1)[0]["command"] == "EXISTS"  # the live one still hears
        deadline = time.monotonic() + 10
        while "Item" in table.get_item(Key={"id": "ghost="}, ConsistentRead=True):
            assert time.monotonic() < deadline, "the gone connection was not deleted"
            time.sleep(0.2)
