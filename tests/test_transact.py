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
