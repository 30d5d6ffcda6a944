"""The search tests' view of the messages stream: read as Lambda reads it (moto's real
records), handed to the app's handler whole, duplicated or shuffled."""
from __future__ import annotations

import random
from typing import Any

import boto3
import pytest

import app as app_module
from chalicelib.config import settings
from devstack.streams import lambda_record
from tests.support import Account, simple_message, upload_raw


class MessagesStream:
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
        return app_module.messages_stream({"Records": records}, None)

    def pump(self, rng: random.Random | None = None) -> None:
        """Everything new, in order (or, given `rng`, duplicated and shuffled)."""
        records = self.read()
        if rng is not None:
            records = records + rng.sample(records, k=len(records) // 2)
            rng.shuffle(records)
        assert self.deliver(records) == {"batchItemFailures": []}


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
