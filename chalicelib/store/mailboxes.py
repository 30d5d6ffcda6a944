"""The mailboxes table: a user's mailboxes with their exact counters."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.store.base import meta
from chalicelib.store.transact import updated


class MailboxItem(Model):
    Meta = meta("mailboxes")

    user = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    path = UnicodeAttribute()
    specialUse = UnicodeAttribute(null=True)
    subscribed = BooleanAttribute(default=True)
    hidden = BooleanAttribute(default=False)
    encryptMessages = BooleanAttribute(default=False)  # encrypt what is stored here
    retention = NumberAttribute(default=0)
    uidValidity = NumberAttribute()
    uidNext = NumberAttribute(default=1)
    modifyIndex = NumberAttribute(default=0)
    total = NumberAttribute(default=0)
    unseen = NumberAttribute(default=0)
    size = NumberAttribute(default=0)
    created = NumberAttribute()

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def get(user: str, mailbox_id: str) -> MailboxItem | None:
    try:
        return MailboxItem.get(user, mailbox_id, consistent_read=True)
    except MailboxItem.DoesNotExist:
        return None


def counters_of(user: str, mailbox_ids: list[str]) -> list[MailboxItem]:
    """The mailboxes of `user` among `mailbox_ids` that exist, with their counters: one
    BatchGetItem per 100 ids (consistent; ids of deleted mailboxes are left out)."""
    keys = [(user, mailbox_id) for mailbox_id in dict.fromkeys(mailbox_ids)]
    return list(MailboxItem.batch_get(keys, consistent_read=True,
                                      attributes_to_get=["user", "id", "total", "unseen"]))


def list_for_user(user: str) -> list[MailboxItem]:
    """All mailboxes of a user: one Query (paginated by DynamoDB only past 1 MB).

    Consistent, so a mailbox shows up in the listing as soon as its creation returned.
    """
    return list(MailboxItem.query(user, consistent_read=True))


def reserve_uids(user: str, mailbox_id: str, count: int) -> int | None:
    """Claim `count` uids of a mailbox with one atomic `ADD` (the first is returned;
    None when the mailbox is gone).

    Claiming apart from the write that uses them means parallel uploads to one mailbox
    never conflict over `uidNext`; a claim whose write then fails leaves a gap, which
    IMAP allows (uids only have to grow).
    """
    item = MailboxItem(user=user, id=mailbox_id)
    if not updated(item, [MailboxItem.uidNext.add(count)], MailboxItem.id.exists()):
        return None
    return int(item.uidNext) - count
