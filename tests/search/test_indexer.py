"""The indexer's failure handling: a message whose lease another reader holds is
reported for retry alone; a record that names no message is skipped."""
from __future__ import annotations

from chalicelib.clock import now_ms
from chalicelib.services.search import indexer
from chalicelib.store import search as index


def test_a_held_lease_fails_only_that_message_and_a_retry_indexes_it(put, find, stream,
                                                                      account,
                                                                      monkeypatch) -> None:
    monkeypatch.setattr(indexer, "CLAIM_WAITS_S", ())
    put("first", "walrus")
    put("second", "walrus")
    records = stream.read()
    held = records[0]["dynamodb"]["NewImage"]["userDateKey"]["S"]
    assert index.claim(account.id, held, "another-reader", now_ms(), 60_000) is not None
    garbage = dict(records[1], dynamodb={**records[1]["dynamodb"], "NewImage": {},
                                         "SequenceNumber": "999"})
    answer = stream.deliver(records + [garbage])
    assert answer == {"batchItemFailures": [
        {"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]}
    assert [e["subject"] for e in find(query="walrus")["results"]] == ["second"]

    doc = index.DocItem.get(index.doc_key(account.id), held)
    doc.update(actions=[index.DocItem.lease.set(now_ms() - 1)])  # the holder's time ran out
    assert stream.deliver(records[:1]) == {"batchItemFailures": []}
    assert find(query="walrus")["total"] == 2


def test_a_retried_batch_takes_back_the_lease_its_crashed_run_left(put, find, stream,
                                                                   account) -> None:
    put("crashed", "narwhal")
    records = stream.read()
    sort = records[0]["dynamodb"]["NewImage"]["userDateKey"]["S"]
    owner = "stream:" + records[0]["dynamodb"]["SequenceNumber"]
    assert index.claim(account.id, sort, owner, now_ms(), 60_000) is not None  # then died
    assert stream.deliver(records) == {"batchItemFailures": []}
    assert find(query="narwhal")["total"] == 1
