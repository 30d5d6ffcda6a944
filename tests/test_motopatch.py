"""The test-only moto patch keeps TransactWriteItems all-or-nothing."""
from __future__ import annotations

import pytest

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
