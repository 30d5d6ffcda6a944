"""Websocket handlers and the journal stream's fan-out, in process: the app's handlers
called with API Gateway's events, moto's real stream records fed through the app's
stream handler, posts captured by a replaced sender (moto never reports a gone
connection, so the sender plays one)."""
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

import app as app_module
from chalicelib import streams
from chalicelib.config import reset_settings, settings
from chalicelib.services.realtime import push
from chalicelib.store import connections
from chalicelib.store.connections import ConnectionItem
from devstack.streams import lambda_record
from devstack.wsbridge import Bridge
from tests.support import simple_message, upload_raw

ENDPOINT = "http://bridge.invalid/local"


class Posts:
    """The management API as the tests see it: what each connection received."""

    def __init__(self) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.gone: set[str] = set()

    def __call__(self, endpoint: str, connection_id: str, data: bytes) -> None:
        if connection_id in self.gone:
            raise push.Gone(connection_id)
        self.received.setdefault(connection_id, []).append(json.loads(data))

    def entries(self, connection_id: str) -> list[dict[str, Any]]:
        return [m for m in self.received.get(connection_id, []) if "command" in m]


@pytest.fixture
def posts(monkeypatch):
    monkeypatch.setenv("WEBSOCKET_ENDPOINT", ENDPOINT)
    reset_settings()
    sink = Posts()
    with push.use(sink):
        yield sink


class Journal:
    """The journal table's stream, read like Lambda reads it, into the app's handler."""

    def __init__(self) -> None:
        config = settings()
        table = config.table("journal")
        self.client = boto3.client("dynamodbstreams", region_name=config.region)
        self.arn = boto3.client("dynamodb", region_name=config.region).describe_table(
            TableName=table)["Table"]["LatestStreamArn"]
        shard = self.client.describe_stream(StreamArn=self.arn)[
            "StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.client.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]

    def pump(self) -> dict[str, Any]:
        answer = self.client.get_records(ShardIterator=self.iterator)
        self.iterator = answer["NextShardIterator"]
        records = [lambda_record(r, self.arn) for r in answer["Records"]]
        return app_module.journal_stream({"Records": records}, None)


@pytest.fixture
def stream_of_journal():
    return Journal()


bridge = Bridge(app_module, "127.0.0.1", 8081)


def connect(connection_id: str, token: str | None = None) -> int:
    query = f"/?accessToken={token}" if token else "/"
    answer = app_module.websocket_connect(
        bridge.connect_event(connection_id, query, {}, "127.0.0.1"), None)
    return answer["statusCode"]


def send(connection_id: str, body: dict[str, Any]) -> None:
    app_module.websocket_message(bridge.message_event(connection_id, json.dumps(body),
                                                      "127.0.0.1"), None)


def test_subscribers_get_each_new_entry_and_others_nothing(api, account, make_user, posts,
                                                           stream_of_journal):
    other = make_user("other")
    assert connect("me=") == 200 and connect("them=") == 200
    send("me=", {"action": "subscribe", "user": account.id})
    send("them=", {"action": "subscribe", "user": other})
    assert posts.received["me="] == [{"action": "subscribed", "user": account.id, "id": 0}]
    upload_raw(api, account, simple_message())
    api.put(f"{account.messages()}/1", {"flagged": True})
    box = api.post(f"/users/{account.id}/mailboxes", {"path": "Work"})["id"]
    api.put(f"/users/{account.id}/mailboxes/{box}", {"path": "Done"})
    assert stream_of_journal.pump() == {"batchItemFailures": []}
    received = posts.entries("me=")
    assert [(m["id"], m["command"]) for m in received] == [
        (1, "EXISTS"), (2, "FETCH"), (3, "CREATE"), (4, "RENAME")]
    assert received[0]["uid"] == 1 and received[3]["path"] == "Done"
    assert posts.entries("them=") == []


def test_a_subscription_with_the_last_id_replays_then_counters(api, account, posts,
                                                                stream_of_journal):
    upload_raw(api, account, simple_message())
    upload_raw(api, account, simple_message("two"))
    api.put(f"{account.messages()}/1", {"seen": False})
    api.post(f"/users/{account.id}/mailboxes", {"path": "Later"})
    connect("late=")
    send("late=", {"action": "subscribe", "user": account.id, "lastEventId": 1})
    messages = posts.received["late="]
    assert messages[0] == {"action": "subscribed", "user": account.id, "id": 4}
    assert [m.get("id") for m in messages[1:4]] == [2, 3, 4]
    assert messages[4] == {"command": "COUNTERS", "mailbox": account.inbox, "total": 2,
                           "unseen": 1}
    stream_of_journal.pump()  # entries up to 4 were the replay's: not posted again
    assert len(posts.received["late="]) == 5
    upload_raw(api, account, simple_message("three"))
    stream_of_journal.pump()
    assert posts.received["late="][-1]["id"] == 5


def test_a_gone_connection_is_deleted_by_the_stream_handler(api, account, posts,
                                                            stream_of_journal):
    connect("alive=")
    connect("gone=")
    for connection in ("alive=", "gone="):
        send(connection, {"action": "subscribe", "user": account.id})
    posts.gone.add("gone=")  # API Gateway would answer 410 GoneException
    upload_raw(api, account, simple_message())
    stream_of_journal.pump()
    assert ConnectionItem.count("gone=") == 0
    assert connections.get("alive=") is not None and len(posts.entries("alive=")) == 1


def test_tokens_on_connect(api, make_user, posts, monkeypatch):
    alice = make_user("alice", password="pw")
    bob = make_user("bob", password="pw")
    token = api.post("/authenticate", {"username": "alice", "password": "pw",
                                       "token": True})["token"]
    assert connect("t1=", "not-a-token") == 403
    assert connect("t1=", token) == 200
    assert connections.get("t1=").principal == alice
    send("t1=", {"action": "subscribe", "user": bob})
    assert posts.received["t1="][-1]["code"] == "MissingPrivileges"
    send("t1=", {"action": "subscribe"})  # its own account
    assert posts.received["t1="][-1] == {"action": "subscribed", "user": alice, "id": 0}
    monkeypatch.setenv("ACCESS_TOKEN", "operator-token-123456")
    reset_settings()
    assert connect("t2=") == 403
    assert connect("t2=", "operator-token-123456") == 200
    send("t2=", {"action": "subscribe"})
    assert posts.received["t2="][-1]["code"] == "MissingPrivileges"  # whose account?
    send("t2=", {"action": "subscribe", "user": bob})
    assert posts.received["t2="][-1]["action"] == "subscribed"


def test_messages_and_disconnect(account, posts):
    connect("c=")
    for body, answer in (({"action": "ping"}, "pong"), ({"action": "dance"}, "error"),
                         ({"action": "subscribe", "user": "x"}, "error"),
                         ({"action": "unsubscribe"}, "unsubscribed")):
        send("c=", body)
        assert posts.received["c="][-1]["action"] == answer
    app_module.websocket_message(bridge.message_event("c=", "not json", "1.2.3.4"), None)
    assert posts.received["c="][-1]["code"] == "InputValidationError"
    app_module.websocket_disconnect(bridge.disconnect_event("c=", "1.2.3.4"), None)
    assert connections.get("c=") is None
    send("c=", {"action": "subscribe", "user": account.id})
    assert posts.received["c="][-1]["code"] == "ConnectionGone"


def test_the_dispatcher_reports_only_the_records_that_failed():
    seen = []

    def picky(changes):
        seen.extend(change.sequence for change in changes)
        return [change for change in changes if change.new and change.new.get("bad")]

    def broken(changes):
        raise RuntimeError("down")

    streams.register("picky", picky)
    streams.register("broken", broken)
    arn = streams.placeholder_arn("picky")

    def record(sequence: str, table_arn: str = arn, **new: Any) -> dict[str, Any]:
        image = {key: {"BOOL": value} for key, value in new.items()}
        return {"eventName": "INSERT", "eventSourceARN": table_arn,
                "dynamodb": {"Keys": {"id": {"S": sequence}}, "NewImage": image,
                             "SequenceNumber": sequence, "SizeBytes": 1,
                             "ApproximateCreationDateTime": 0,
                             "StreamViewType": "NEW_IMAGE"}}

    undecodable = record("3")
    undecodable["dynamodb"]["NewImage"] = {"x": {"??": "1"}}
    answer = streams.dispatch({"Records": [
        record("1"), record("2", bad=True), undecodable, record("4"),
        record("5", streams.placeholder_arn("broken")), record("6", "arn:other:table/x/s")]})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "3"},
                                            {"itemIdentifier": "2"},
                                            {"itemIdentifier": "5"}]}
    assert seen == ["1", "2", "4"]
