"""Build large mailboxes directly in the tables (batch writes, no API calls per message):
for budget tests and benchmarks that need thousands of messages quickly.

Items look like uploaded ones (addresses, subject, intro, flags, sizes, small inline
body), and the mailbox counters and the user's storageUsed are set to match.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator
from unittest import mock

from chalicelib.ids import new_id
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.messages import SEEN, MessageItem, idate_key, place, user_date_key
from chalicelib.store.users import UserItem

SIZE = 2048
BASE_IDATE = 1_700_000_000_000


def message_item(user: str, mailbox: str, uid: int, *, seen: bool = True,
                 thread: str | None = None) -> MessageItem:
    msgid = new_id()
    item = MessageItem(
        user=user, msgid=msgid, idate=BASE_IDATE + uid * 60_000, thread=thread or msgid,
        hdate=BASE_IDATE + uid * 60_000, size=SIZE, flags=[SEEN] if seen else [], rev=0,
        from_={"name": "Sender Name", "address": "sender@example.com"},
        to=[{"name": "Test User", "address": "testuser@example.com"}], cc=[], bcc=[],
        replyTo=[], subject=f"Message number {uid:06d}",
        messageId=f"<{msgid}@example.com>", references=[],
        intro="Beginning text in the message that a listing shows as the intro line of "
              "each message, cut at about one hundred and twenty eight characters…",
        attachments=[], hasAttachments=False,
        contentType={"value": "text/plain", "params": {"charset": "utf-8"}},
        encrypted=False, external=False, text="Hello\n" * 40, html=[])
    place(item, mailbox, uid, flagged_visible=True)
    return item


@contextmanager
def _bulk_load() -> Iterator[None]:
    """In-process moto re-measures the whole item for every attribute it stores (quadratic
    in attributes, ~10 ms an item here); bulk loads skip that 400 KB guard: these items
    are a few KB. Against anything but in-process moto this changes nothing."""
    try:
        from moto.dynamodb.models.dynamo_type import LimitedSizeDict
    except ImportError:  # pragma: no cover - moto not installed
        yield
        return
    with mock.patch.object(LimitedSizeDict, "__setitem__", dict.__setitem__):
        yield


def fill_mailbox(user: str, mailbox: str, count: int, *, unseen_every: int = 0) -> int:
    """Append `count` messages after the mailbox's current uids; returns the new uidNext."""
    box = MailboxItem.get(user, mailbox, consistent_read=True)
    first = int(box.uidNext)
    unseen = 0
    with _bulk_load(), MessageItem.batch_write() as batch:
        for uid in range(first, first + count):
            seen = not (unseen_every and uid % unseen_every == 0)
            unseen += 0 if seen else 1
            batch.save(message_item(user, mailbox, uid, seen=seen))
    actions: list[Any] = [MailboxItem.uidNext.set(first + count), MailboxItem.total.add(count),
                          MailboxItem.unseen.add(unseen), MailboxItem.size.add(count * SIZE),
                          MailboxItem.modifyIndex.add(1)]
    box.update(actions=actions)
    UserItem(id=user).update(actions=[UserItem.storageUsed.add(count * SIZE)])
    return first + count


def _moto_table(model: Any) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][model.Meta.region]
    return backend.get_table(model.Meta.table_name)


def preload_mailbox(user: str, mailbox: str, count: int) -> int:
    """`fill_mailbox` for in-process moto only, about 20x faster: the items go straight
    into moto's table storage (no request serialization, no stream records). For tests
    that need a 20,000-message mailbox; `drop_mailbox` removes them as quickly."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    table = _moto_table(MessageItem)
    box = MailboxItem.get(user, mailbox, consistent_read=True)
    first = int(box.uidNext)
    template = message_item(user, mailbox, first).serialize()
    partition = table.items[DynamoType({"S": mailbox})]
    with _bulk_load():
        for uid in range(first, first + count):
            msgid, idate = new_id(), BASE_IDATE + uid * 60_000
            attrs = dict(template)
            attrs.update({
                "uid": {"N": str(uid)}, "msgid": {"S": msgid}, "thread": {"S": msgid},
                "idate": {"N": str(idate)}, "hdate": {"N": str(idate)},
                "idateKey": {"S": idate_key(idate, uid)},
                "userDateKey": {"S": user_date_key(idate, msgid)},
                "subject": {"S": f"Message number {uid:06d}"},
                "messageId": {"S": f"<{msgid}@example.com>"},
            })
            partition[DynamoType({"N": str(uid)})] = Item(
                DynamoType({"S": mailbox}), DynamoType({"N": str(uid)}), attrs)
    box.update(actions=[MailboxItem.uidNext.set(first + count), MailboxItem.total.add(count),
                        MailboxItem.size.add(count * SIZE)])
    UserItem(id=user).update(actions=[UserItem.storageUsed.add(count * SIZE)])
    return first + count


def drop_mailbox(mailbox: str) -> None:
    """Remove a preloaded mailbox's items from in-process moto at once."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    _moto_table(MessageItem).items.pop(DynamoType({"S": mailbox}), None)


def preload_index(user: str, mailbox: str) -> int:
    """The search postings and docs the indexer would write for every message of a
    mailbox (the same functions build them), put straight into in-process moto's
    storage, as `preload_mailbox` does with the messages; returns the postings written."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    from chalicelib.services.search.indexer import message_text
    from chalicelib.services.search.text import terms_of
    from chalicelib.store import search as index
    table = _moto_table(index.PostingItem)
    written = 0

    def put(model: Any) -> None:
        attrs = model.serialize()
        table.items[DynamoType(attrs["key"])][DynamoType(attrs["sort"])] = Item(
            DynamoType(attrs["key"]), DynamoType(attrs["sort"]), attrs)

    with _bulk_load():
        for item in MessageItem.query(mailbox):
            terms = terms_of(message_text(item))
            for term in terms:
                put(index.PostingItem(index.posting_key(user, term), item.userDateKey,
                                      mailbox=mailbox, uid=int(item.uid), size=int(item.size),
                                      att=int(bool(item.hasAttachments)), thread=item.thread))
            put(index.DocItem(index.doc_key(user), item.userDateKey, mailbox=mailbox,
                              uid=int(item.uid), terms=terms))
            written += len(terms)
    return written
