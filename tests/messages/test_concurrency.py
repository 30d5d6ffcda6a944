"""Uploads racing each other: uids, counters and the quota stay exact."""
from __future__ import annotations

import threading

from chalicelib.errors import OverQuotaError
from chalicelib.services import messages as service
from chalicelib.services.messages import NewMessage
from chalicelib.store.journal import JournalItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.messages import MessageItem
from chalicelib.store.users import UserItem
from tests.messages.conftest import Account, mailbox_ids, simple_message


def race(count, work):
    barrier = threading.Barrier(count)
    results: list = []
    errors: list = []

    def run(index):
        barrier.wait()
        try:
            results.append(work(index))
        except Exception as error:  # noqa: BLE001 - collected for the assertions
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_concurrent_uploads_to_one_mailbox_get_distinct_uids_and_exact_counters(
        account, serialized_aws):
    raw = simple_message()
    stored, errors = race(8, lambda n: service.upload(
        account.id, account.inbox, NewMessage(raw=raw, seen=n % 2 == 0)))
    assert errors == []
    assert sorted(s.uid for s in stored) == list(range(1, 9))
    inbox = MailboxItem.get(account.id, account.inbox)
    assert (inbox.total, inbox.unseen, inbox.size, inbox.uidNext) == (8, 4, 8 * len(raw), 9)
    assert len(list(MessageItem.query(account.inbox))) == 8
    assert UserItem.get(account.id).storageUsed == 8 * len(raw)
    assert [e.seq for e in JournalItem.query(account.id)] == list(range(1, 9))


def test_concurrent_uploads_near_the_quota_never_exceed_it(make_user, serialized_aws):
    raw = simple_message()
    user_id = make_user("nearlyfull", quota=3 * len(raw) + len(raw) // 2)
    account = Account(user_id, mailbox_ids(user_id))
    stored, errors = race(8, lambda n: service.upload(account.id, account.inbox,
                                                      NewMessage(raw=raw)))
    assert len(stored) == 3
    assert len(errors) == 5 and all(isinstance(e, OverQuotaError) for e in errors)
    assert UserItem.get(user_id).storageUsed == 3 * len(raw)
    assert MailboxItem.get(user_id, account.inbox).total == 3
