"""The local stream pump delivers like a Lambda event source mapping with partial batch
responses: in order, again from the first failed record, then past a record that keeps
failing."""
from __future__ import annotations

from typing import Any

from devstack import streams as pump


class FakeStreams:
    def __init__(self, sequences: list[str]) -> None:
        self.records = [{"eventName": "INSERT", "dynamodb": {
            "SequenceNumber": s, "Keys": {}, "ApproximateCreationDateTime": 0}}
            for s in sequences]

    def get_shard_iterator(self, **_: Any) -> dict[str, str]:
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803
        start = int(ShardIterator)
        return {"Records": self.records[start:start + Limit],
                "NextShardIterator": str(min(start + Limit, len(self.records)))}


def run(sequences: list[str], fail: dict[str, int]) -> list[list[str]]:
    """Deliver everything; `fail[s]` = how many times record s fails. The batches seen."""
    batches: list[list[str]] = []

    def invoke(event: dict[str, Any], _: Any) -> dict[str, Any]:
        numbers = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        assert all(r["eventSourceARN"] == "arn:stream" for r in event["Records"])
        batches.append(numbers)
        failed = []
        for number in numbers:
            if fail.get(number, 0) > 0:
                fail[number] -= 1
                failed.append({"itemIdentifier": number})
        return {"batchItemFailures": failed}

    reader = pump.ShardReader(FakeStreams(sequences), "arn:stream", "shard", invoke, 3)
    for _ in range(20):
        reader.step()
    return batches


def test_a_failed_record_is_delivered_again_with_what_follows_it():
    assert run(["1", "2", "3", "4"], {"2": 1}) == [["1", "2", "3"], ["2", "3"], ["4"]]


def test_a_record_that_keeps_failing_is_given_up_and_the_rest_go_on():
    batches = run(["1", "2", "3"], {"2": 99})
    assert batches == [["1", "2", "3"]] + [["2", "3"]] * pump.MAX_RETRIES + [["3"]]


def test_records_carry_what_lambda_adds():
    record = pump.lambda_record({"eventName": "INSERT", "dynamodb": {
        "SequenceNumber": "9", "Keys": {}}}, "arn:aws:dynamodb:r:1:table/t/stream/x")
    assert record["eventSourceARN"].endswith("table/t/stream/x")
    assert record["eventSource"] == "aws:dynamodb"
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)
