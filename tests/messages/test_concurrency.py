"""Uploads racing each other: uids, counters and the quota stay exact."""
from __future__ import annotations

from unittest import mock

import pytest

from chalicelib.errors import OverQuotaError
from chalicelib.services import message_updates
from chalicelib.services import messages as service
from chalicelib.services.messages import NewMessage
from chalicelib.store.journal import JournalItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.messages import MessageItem
from chalicelib.store.users import UserItem
from devstack.calls import counting
from tests.support import Account, mailbox_ids, race, simple_message


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


def test_fifty_parallel_uploads_all_succeed_without_a_single_retry(account, serialized_aws):
    raw = simple_message()
    with counting() as calls:
        stored, errors = race(50, lambda n: service.upload(
            account.id, account.inbox, NewMessage(raw=raw, seen=n % 5 == 0)))
    assert errors == []
    assert sorted(s.uid for s in stored) == list(range(1, 51))
    # uid and journal number are claimed by atomic ADDs: nothing left to conflict on
    assert calls.by_operation("dynamodb")["TransactWriteItems"] == 50
    inbox = MailboxItem.get(account.id, account.inbox)
    assert (inbox.total, inbox.unseen, inbox.size, inbox.uidNext) == (50, 40, 50 * len(raw), 51)
    assert UserItem.get(account.id).storageUsed == 50 * len(raw)
    journal = list(JournalItem.query(account.id))
    assert [e.seq for e in journal] == list(range(1, 51))
    assert sorted(e.data.as_dict()["uid"] for e in journal) == list(range(1, 51))


def test_uploads_moves_and_flag_changes_in_parallel_keep_counters_and_journal_whole(
        account, serialized_aws):
    raw = simple_message()
    trash = account.boxes["Trash"]
    for _ in range(20):
        service.upload(account.id, account.inbox, NewMessage(raw=raw, seen=False))

    def work(n: int) -> object:
        if n < 20:
            return service.upload(account.id, account.inbox, NewMessage(raw=raw, seen=False))
        if n < 30:
            return message_updates.move(account.id, account.inbox, str(n - 19), trash,
                                        message_updates.Changes())
        return message_updates.update(account.id, account.inbox, "1:*",
                                      message_updates.Changes(seen=n % 2 == 0))

    _, errors = race(40, work)
    assert errors == []
    for box in (account.inbox, trash):
        mailbox = MailboxItem.get(account.id, box)
        items = list(MessageItem.query(box))
        assert (mailbox.total, mailbox.size, mailbox.unseen) == (
            len(items), sum(int(i.size) for i in items),
            sum(1 for i in items if "\\Seen" not in (i.flags or [])))
        assert len({int(i.uid) for i in items}) == len(items)
    assert MailboxItem.get(account.id, trash).total == 10
    assert MailboxItem.get(account.id, account.inbox).total == 30
    seqs = [e.seq for e in JournalItem.query(account.id)]
    assert seqs == list(range(1, len(seqs) + 1)), "claimed journal numbers left a gap"
    assert int(UserItem.get(account.id).journalSeq) == len(seqs)


def test_a_refused_upload_fills_its_claimed_journal_number(make_user):
    raw = simple_message()
    user_id = make_user("fullbox", quota=len(raw) + 10)
    account = Account(user_id, mailbox_ids(user_id))
    service.upload(account.id, account.inbox, NewMessage(raw=raw))
    # a quota lowered between the pre-check and the commit: the transaction refuses
    with mock.patch.object(service, "over_quota", side_effect=[False, True]):
        UserItem(id=user_id).update(actions=[UserItem.quota.set(len(raw) + 5)])
        with pytest.raises(OverQuotaError):
            service.upload(account.id, account.inbox, NewMessage(raw=raw))
    commands = [(e.seq, e.command) for e in JournalItem.query(user_id)]
    assert commands == [(1, "EXISTS"), (2, "NOOP")]
    assert MailboxItem.get(user_id, account.inbox).total == 1
