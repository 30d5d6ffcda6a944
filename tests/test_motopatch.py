"""The moto patches: all-or-nothing transactions with one backup, no instance
tracking, bounded streams, ClientRequestToken idempotency."""
from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack import motopatch

from chalicelib.store.transact import Transaction, TransactionFailed
from chalicelib.store.keys import KeyItem
from chalicelib.store.mailboxes import MailboxItem


def test_a_cancelled_transaction_restores_every_item_it_changed_in_one_partition():
    boxes = [MailboxItem(user="u", id=f"box{n}", path=f"p{n}", uidValidity=1, created=1,
                         total=n) for n in range(3)]
    for box in boxes:
        box.save()
    tx = Transaction()
    tx.update(boxes[0], actions=[MailboxItem.total.add(10)])
    tx.update(boxes[1], actions=[MailboxItem.total.add(10)])
    tx.save(KeyItem(key="new", expires=1))
    tx.update(boxes[2], actions=[MailboxItem.total.add(10)],
              condition=MailboxItem.total == 99, label="fails")
    with pytest.raises(TransactionFailed) as failure:
        tx.commit()
    assert failure.value.failed == {"fails"}
    assert [int(MailboxItem.get("u", f"box{n}").total) for n in range(3)] == [0, 1, 2]
    with pytest.raises(KeyItem.DoesNotExist):
        KeyItem.get("new")


# --------------------------------------------------------------- a day of moto

def _streams() -> tuple[Any, str, str]:
    """The journal table's stream: client, stream ARN, shard id."""
    from chalicelib.config import settings
    from chalicelib.store.journal import JournalItem

    region = settings().region
    arn = boto3.client("dynamodb", region_name=region).describe_table(
        TableName=JournalItem.Meta.table_name)["Table"]["LatestStreamArn"]
    client = boto3.client("dynamodbstreams", region_name=region)
    shard = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return client, arn, shard


def _journal(n: int, start: int = 0) -> None:
    from chalicelib.store.journal import JournalItem

    with JournalItem.batch_write() as batch:
        for seq in range(start, start + n):
            batch.save(JournalItem(user="streamer", seq=seq, command="NOOP", data={},
                                   created=0, expires=2 ** 31))


def _iterator(client: Any, arn: str, shard: str, kind: str = "TRIM_HORIZON") -> str:
    return client.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                     ShardIteratorType=kind)["ShardIterator"]


def _sequence(record: dict[str, Any]) -> int:
    return int(record["dynamodb"]["SequenceNumber"])


def test_moto_keeps_no_list_of_every_object_it_ever_made():
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    _journal(20)
    tx = Transaction()
    tx.save(KeyItem(key="tracked", expires=1))
    tx.commit()
    assert Item.instances_tracked == [] and Table.instances_tracked == []


def test_a_stream_shard_keeps_at_most_its_cap_and_readers_go_on(monkeypatch):
    monkeypatch.setattr(motopatch, "stream_records", 50)
    client, arn, shard = _streams()
    oldest = client.get_records(ShardIterator=_iterator(client, arn, shard), Limit=1)
    _journal(200)
    records = client.get_records(ShardIterator=_iterator(client, arn, shard),
                                 Limit=1000)["Records"]
    assert 50 <= len(records) <= 55  # trimmed in steps of a tenth
    numbers = [_sequence(r) for r in records]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # no hole
    assert [r["dynamodb"]["Keys"]["seq"]["N"] for r in records][-1] == "199"
    # A reader whose position was trimmed away continues at the oldest record kept.
    if oldest["Records"]:
        stale = oldest["NextShardIterator"]
        again = client.get_records(ShardIterator=stale, Limit=1000)["Records"]
        assert [_sequence(r) for r in again] == numbers


def test_records_every_live_reader_has_passed_are_dropped():
    import time

    from moto.dynamodbstreams.models import dynamodbstreams_backends

    client, arn, shard = _streams()
    _journal(30)
    start = _iterator(client, arn, shard)
    first = client.get_records(ShardIterator=start, Limit=1000)
    assert len(first["Records"]) >= 30
    # Every iterator but the reader's latest one passes its 15 minutes.
    backend = next(iter(dynamodbstreams_backends.values()))[client.meta.region_name]
    for name, iterator in backend.shard_iterators.items():
        if name != first["NextShardIterator"]:
            iterator.created = time.monotonic() - motopatch.ITERATOR_LIFETIME_S - 1
    _journal(5, start=30)
    rest = client.get_records(ShardIterator=first["NextShardIterator"], Limit=1000)
    assert [r["dynamodb"]["Keys"]["seq"]["N"] for r in rest["Records"]] == \
        [str(n) for n in range(30, 35)]
    horizon = client.get_records(ShardIterator=_iterator(client, arn, shard), Limit=1000)
    assert horizon["Records"] == rest["Records"]  # what the reader had passed is gone
    with pytest.raises(ClientError) as expired:
        client.get_records(ShardIterator=start)
    assert expired.value.response["Error"]["Code"] == "ExpiredIteratorException"


def _low_level_put(token: str, key: str) -> dict[str, Any]:
    from chalicelib.config import settings

    return boto3.client("dynamodb", region_name=settings().region).transact_write_items(
        ClientRequestToken=token,
        TransactItems=[{"Put": {"TableName": KeyItem.Meta.table_name,
                                "Item": {"key": {"S": key}, "expires": {"N": "1"}},
                                "ConditionExpression": "attribute_not_exists(#k)",
                                "ExpressionAttributeNames": {"#k": "key"}}}])


def test_a_repeated_client_request_token_answers_success_and_changes_nothing():
    _low_level_put("token-1", "once")
    KeyItem.get("once").update(actions=[KeyItem.expires.set(7)])
    _low_level_put("token-1", "once")  # the condition would fail if it ran again
    assert int(KeyItem.get("once").expires) == 7
    with pytest.raises(ClientError) as changed:
        _low_level_put("token-1", "other")
    assert changed.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    with pytest.raises(ClientError) as taken:  # a new token runs, and its condition fails
        _low_level_put("token-2", "once")
    assert taken.value.response["Error"]["Code"] == "TransactionCanceledException"
