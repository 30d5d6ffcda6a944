"""The local stack's stand-in for Lambda's DynamoDB stream event source mappings.

For every `@app.on_dynamodb_record` handler of the app, a thread reads the stream of the
table its ARN names (the placeholder of chalicelib/streams.py, or a real ARN) from the
moto server, with the same calls Lambda makes (DescribeTable for the stream ARN,
DescribeStream, GetShardIterator, GetRecords), and invokes the handler with the event
Lambda would build: up to `batch_size` records, each with its `eventSourceARN`. It reads
from the start of each shard (TRIM_HORIZON, not the mapping's LATEST: the local tables
are new, and nothing written before the pump started is lost) and polls every
`interval` seconds, as Lambda polls about four times a second.

Failures are handled as a mapping with `ReportBatchItemFailures`, bisection and
`MaximumRetryAttempts` would: records from the first one reported failed on are
delivered again, up to `MAX_RETRIES` times; then that record is logged as sent to the
on-failure destination and the rest go on.
Local tooling only; never shipped.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any, Callable

import boto3

MAX_RETRIES = 2
SHARDS_EVERY_S = 5.0  # how often the stream's shard list is read again
log = logging.getLogger("devstack.streams")

Invoke = Callable[[dict[str, Any], Any], Any]


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it to a function."""
    body = dict(record["dynamodb"])
    body["ApproximateCreationDateTime"] = _epoch(body.get("ApproximateCreationDateTime")
                                                 or time.time())
    body.setdefault("SizeBytes", 0)
    return {"eventID": record.get("eventID", ""), "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"), "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", ""), "dynamodb": body,
            "eventSourceARN": stream_arn}


def table_of(arn: str) -> str:
    return arn.split(":table/", 1)[-1].split("/", 1)[0]


class ShardReader:
    """One shard of one stream, delivered in order to one handler."""

    def __init__(self, client: Any, stream_arn: str, shard_id: str, invoke: Invoke,
                 batch_size: int) -> None:
        self.client, self.stream_arn, self.invoke = client, stream_arn, invoke
        self.batch_size = batch_size
        self.iterator: str | None = client.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id,
            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.pending: list[dict[str, Any]] = []
        self.attempts = 0
        self.delivered = 0

    def step(self) -> bool:
        """Read (when nothing is pending) and deliver one batch; True when it did work.
        What a read returns beyond a batch, or a batch to retry, stays `pending`."""
        if not self.pending:
            if self.iterator is None:
                return False
            answer = self.client.get_records(ShardIterator=self.iterator,
                                             Limit=self.batch_size)
            self.iterator = answer.get("NextShardIterator")
            self.pending = [lambda_record(record, self.stream_arn)
                            for record in answer.get("Records", [])]
            if not self.pending:
                return False
        batch = self.pending[:self.batch_size]
        try:
            result = self.invoke({"Records": batch}, None)
            failures = [item["itemIdentifier"]
                        for item in (result or {}).get("batchItemFailures", [])]
        except Exception:  # noqa: BLE001 - a function error: the whole batch failed
            log.exception("stream handler raised")
            failures = [batch[0]["dynamodb"]["SequenceNumber"]]
        numbers = [record["dynamodb"]["SequenceNumber"] for record in batch]
        first = min((numbers.index(f) for f in failures if f in numbers), default=None)
        if first is None:
            self.pending = self.pending[len(batch):]
            self.attempts = 0
            self.delivered += len(batch)
            return True
        self.delivered += first
        self.pending = self.pending[first:]
        self.attempts += 1
        if self.attempts > MAX_RETRIES:
            log.error("stream record %s failed %d times: to the on-failure destination",
                      numbers[first], self.attempts)
            self.pending = self.pending[1:]
            self.attempts = 0
        return True


class StreamPump:
    """Every stream handler of `app_module`, fed from the moto server boto3 points at."""

    def __init__(self, app_module: Any, interval: float = 0.25) -> None:
        from chalice.app import DynamoDBEventConfig
        self.sources = [(source, getattr(app_module, source.name))
                        for source in app_module.app.event_sources
                        if isinstance(source, DynamoDBEventConfig)]
        self.interval = interval
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.readers: list[ShardReader] = []

    def start(self) -> list[str]:
        """Start one thread per handler; returns the tables pumped."""
        tables = []
        for source, invoke in self.sources:
            table = table_of(source.stream_arn)
            tables.append(table)
            thread = threading.Thread(target=self._run, args=(table, invoke, source.batch_size),
                                      name=f"stream-{table}", daemon=True)
            thread.start()
            self.threads.append(thread)
        return tables

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)

    def _run(self, table: str, invoke: Invoke, batch_size: int) -> None:
        dynamodb = boto3.client("dynamodb")
        streams = boto3.client("dynamodbstreams")
        stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shards: dict[str, ShardReader] = {}
        described = 0.0
        while not self.stopping.is_set():
            try:
                found = []
                if time.monotonic() - described > SHARDS_EVERY_S:  # new shards are rare
                    described = time.monotonic()
                    found = streams.describe_stream(
                        StreamArn=stream_arn)["StreamDescription"]["Shards"]
                for shard in found:
                    if shard["ShardId"] not in shards:
                        reader = ShardReader(streams, stream_arn, shard["ShardId"], invoke,
                                             batch_size)
                        shards[shard["ShardId"]] = reader
                        self.readers.append(reader)
                for reader in shards.values():
                    reader.step()
                backlog = any(reader.pending for reader in shards.values())
            except Exception:  # noqa: BLE001 - the pump outlives a moto hiccup
                if self.stopping.is_set():
                    return
                log.exception("stream pump of %s", table)
                backlog = False
            if not backlog:  # one read per shard and interval, as Lambda polls
                self.stopping.wait(self.interval)
