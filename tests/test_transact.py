"""The transaction helper: the 100-item guard, label precedence, retries to a deadline."""
from __future__ import annotations

import time
from unittest import mock

import pytest

from chalicelib.errors import Conflict, UserExistsError
from chalicelib.store import transact
from chalicelib.store.keys import KeyItem
from chalicelib.store.transact import Transaction, TooManyItems, TransactionFailed, budget, run


def _put(tx: Transaction, key: str, label: str = "") -> None:
    tx.save(KeyItem(key=key, expires=int(time.time()) + 60),
            condition=KeyItem.key.does_not_exist(), label=label)


def test_more_than_100_operations_are_refused_before_reaching_dynamodb():
    def build(tx: Transaction) -> None:
        for n in range(101):
            _put(tx, f"guard#{n}")

    with pytest.raises(TooManyItems) as raised:
        run(build)
    assert raised.value.status == 400 and "101" in raised.value.message
    assert list(KeyItem.scan()) == []


def test_exactly_100_operations_commit():
    run(lambda tx: [_put(tx, f"full#{n}") for n in range(100)])
    assert len(list(KeyItem.scan())) == 100


def test_the_first_mapped_label_in_the_callers_order_wins():
    run(lambda tx: (_put(tx, "a"), _put(tx, "b")))
    with pytest.raises(UserExistsError):
        run(lambda tx: (_put(tx, "b", "second"), _put(tx, "a", "first")),
            errors={"first": UserExistsError, "second": KeyError})


def test_a_lost_race_is_rebuilt_from_fresh_reads_until_it_commits():
    attempts: list[int] = []
    run(lambda tx: _put(tx, "taken"))

    def build(tx: Transaction) -> int:
        attempts.append(len(attempts))
        _put(tx, "taken" if len(attempts) < 3 else "free", "race")
        return len(attempts)

    assert run(build) == 3
    assert attempts == [0, 1, 2]


def test_retries_stop_at_the_deadline_with_a_conflict():
    run(lambda tx: _put(tx, "taken"))
    seen: list[TransactionFailed] = []
    started = time.monotonic()
    with budget(0.2), pytest.raises(Conflict):
        run(lambda tx: _put(tx, "taken", "race"), on_retry=seen.append)
    assert time.monotonic() - started < 2
    assert len(seen) >= 2 and all(f.failed == {"race"} for f in seen)


def test_backoff_is_full_jitter_growing_exponentially_and_capped():
    waits: list[float] = []
    with mock.patch.object(transact.time, "sleep", waits.append), \
            mock.patch.object(transact.random, "uniform", lambda low, high: high):
        for attempt in range(12):
            assert transact.pause(attempt, time.monotonic() + 60)
    assert waits[:4] == [0.01, 0.02, 0.04, 0.08]
    assert max(waits) == transact.MAX_DELAY_S


def test_transaction_conflicts_count_as_races_not_errors():
    failure = TransactionFailed(set(), conflict=True)
    calls = {"n": 0}
    real = Transaction.commit

    def flaky(self: Transaction) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise failure
        real(self)

    with mock.patch.object(Transaction, "commit", flaky):
        run(lambda tx: _put(tx, "after-conflict"))
    assert calls["n"] == 2


def test_every_attempt_carries_a_token_of_its_own():
    run(lambda tx: _put(tx, "taken"))
    tokens: list[str | None] = []

    def build(tx: Transaction) -> None:
        tokens.append(tx.tx._client_request_token)
        _put(tx, "taken" if len(tokens) < 3 else "free", "race")

    run(build)
    assert len(tokens) == 3 and len(set(tokens)) == 3 and all(tokens)


def test_an_unknown_outcome_is_sent_again_unchanged_not_rebuilt():
    """A timeout (or DynamoDB still processing that very request) says nothing about
    whether it committed: the same request, same token, goes again."""
    builds: list[int] = []
    sent: list[str | None] = []
    real = Transaction.commit

    def unsure_twice(self: Transaction) -> None:
        sent.append(self.tx._client_request_token)
        if len(sent) <= 2:
            real(self)  # committed, but the answer is lost
            raise transact.OutcomeUnknown("read timeout")
        real(self)  # the same token again: DynamoDB answers success, changes nothing

    def build(tx: Transaction) -> str:
        builds.append(1)
        _put(tx, "once", "race")
        return "done"

    with mock.patch.object(Transaction, "commit", unsure_twice):
        assert run(build) == "done"
    assert len(builds) == 1 and len(sent) == 3 and len(set(sent)) == 1
    assert [k.key for k in KeyItem.scan()] == ["once"]


def test_transaction_in_progress_means_resend_not_conflict():
    from pynamodb.exceptions import TransactWriteError

    class InProgress(Exception):
        response = {"Error": {"Code": "TransactionInProgressException"}}

    error = TransactWriteError("in progress", InProgress())
    assert transact._outcome_unknown(error)


def test_an_item_too_large_is_refused_at_once_not_retried_into_a_conflict():
    attempts: list[int] = []

    def build(tx: Transaction) -> None:
        attempts.append(1)
        tx.save(KeyItem(key="huge", expires=int(time.time()) + 60, data={"x": "y" * 410_000}))

    started = time.monotonic()
    with pytest.raises(transact.ItemTooLarge) as raised:
        run(build)
    assert raised.value.status == 400 and raised.value.code == "ItemTooLarge"
    assert attempts == [1] and time.monotonic() - started < 5


def test_a_single_write_too_large_is_a_400_too():
    item = KeyItem(key="huge-single", expires=int(time.time()) + 60, data={"x": "y" * 410_000})
    with pytest.raises(transact.ItemTooLarge):
        transact.retrying(item.save)
