"""The messages table: one item per message, keyed by mailbox and IMAP uid.

Items carry what listings and the message view need (addresses, subject, intro, flags,
attachment list, sizes); the raw source and large parsed bodies are in S3
(`store/blobs.py`). The three indexes project only the listing attributes, so index
writes stay small when flags change and a listing page costs the same whatever the size
of the bodies kept on the items.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from pynamodb.attributes import (BooleanAttribute, ListAttribute, MapAttribute,
                                 NumberAttribute, UnicodeAttribute)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib.store.base import meta
from chalicelib.store.batch import batch_get
from chalicelib.store.transact import updated

# Attributes every index projects (keys are always projected). Keep in step with
# infra/tables.yaml, which is what DynamoDB actually uses.
LISTING_ATTRIBUTES = [
    "user", "msgid", "thread", "idate", "hdate", "size", "from", "to", "cc", "bcc",
    "subject", "messageId", "intro", "hasAttachments", "contentType", "flags", "expires",
    "encrypted",
]

SEEN, FLAGGED, DRAFT, DELETED = "\\Seen", "\\Flagged", "\\Draft", "\\Deleted"
ANSWERED, FORWARDED, JUNK = "\\Answered", "$Forwarded", "$Junk"


class ByIdate(LocalSecondaryIndex["MessageItem"]):
    class Meta:
        index_name = "byIdate"
        projection = IncludeProjection(LISTING_ATTRIBUTES)

    mailbox = UnicodeAttribute(hash_key=True)
    idateKey = UnicodeAttribute(range_key=True)


class Flagged(GlobalSecondaryIndex["MessageItem"]):
    class Meta:
        index_name = "flagged"
        projection = IncludeProjection(LISTING_ATTRIBUTES)

    user = UnicodeAttribute(hash_key=True)
    flaggedKey = UnicodeAttribute(range_key=True)


class Expiring(GlobalSecondaryIndex["MessageItem"]):
    class Meta:
        index_name = "expiring"
        projection = IncludeProjection(["user"])

    expiring = UnicodeAttribute(hash_key=True)
    expires = NumberAttribute(range_key=True)


EXPIRING = "due"  # the one partition of the sparse `expiring` index


class ByUser(GlobalSecondaryIndex["MessageItem"]):
    class Meta:
        index_name = "byUser"
        projection = IncludeProjection(LISTING_ATTRIBUTES)

    user = UnicodeAttribute(hash_key=True)
    userDateKey = UnicodeAttribute(range_key=True)


class MessageItem(Model):
    Meta = meta("messages")

    mailbox = UnicodeAttribute(hash_key=True)
    uid = NumberAttribute(range_key=True)
    user = UnicodeAttribute()
    msgid = UnicodeAttribute()  # stable across moves and the archive: S3 folder, events
    idate = NumberAttribute()  # internal date, epoch ms
    idateKey = UnicodeAttribute()
    userDateKey = UnicodeAttribute()
    flaggedKey = UnicodeAttribute(null=True)  # set only while flagged outside Junk/Trash
    thread = UnicodeAttribute()
    hdate = NumberAttribute()  # the Date header (internal date when missing), epoch ms
    size = NumberAttribute()
    flags = ListAttribute(of=UnicodeAttribute, default=list)
    expires = NumberAttribute(null=True)  # epoch ms; the message is due for deletion
    expiring = UnicodeAttribute(null=True)  # EXPIRING while `expires` is set (index key)
    rev = NumberAttribute(default=0)  # bumped on every change: optimistic concurrency
    from_ = MapAttribute(attr_name="from", null=True)
    to = ListAttribute(default=list)
    cc = ListAttribute(default=list)
    bcc = ListAttribute(default=list)
    replyTo = ListAttribute(default=list)
    subject = UnicodeAttribute(default="")
    messageId = UnicodeAttribute(null=True)
    inReplyTo = UnicodeAttribute(null=True)
    references = ListAttribute(of=UnicodeAttribute, default=list)
    listId = UnicodeAttribute(null=True)  # items stored before `mailingList` only
    # {id: {name, address}, unsubscribe: [{name, address}]}: List-Id, List-Unsubscribe
    mailingList = MapAttribute(null=True)
    metaData = UnicodeAttribute(null=True)  # the client's JSON object, as compact text
    intro = UnicodeAttribute(default="")
    attachments = ListAttribute(default=list)
    hasAttachments = BooleanAttribute(default=False)
    contentType = MapAttribute(null=True)
    encrypted = BooleanAttribute(default=False)
    # Bodies: inline when small, otherwise in S3 (bodies.json) together with whatever
    # did not fit on the item (long recipient lists, references).
    text = UnicodeAttribute(null=True)
    html = ListAttribute(of=UnicodeAttribute, null=True)
    external = BooleanAttribute(default=False)
    # Set only by an upload whose addresses go to the address register: {kind, at}
    # (services/addressregister.marker). A move or restore drops it: not an arrival.
    register = MapAttribute(null=True)

    by_idate = ByIdate()
    flagged_index = Flagged()
    by_user = ByUser()
    expiring_index = Expiring()

    def has(self, flag: str) -> bool:
        return flag in (self.flags or [])


def expiry_actions(expires: int | None) -> list[Any]:
    """Update actions that set (or clear) a message's expiry and its index entry."""
    if expires:
        return [MessageItem.expires.set(expires), MessageItem.expiring.set(EXPIRING)]
    return [MessageItem.expires.remove(), MessageItem.expiring.remove()]


def set_expiry(item: MessageItem, expires: int | None) -> None:
    item.expires = expires or None
    item.expiring = EXPIRING if expires else None


def due(now_ms: int, limit: int) -> list[MessageItem]:
    """Messages whose expiry has passed, oldest first (keys and `user` only)."""
    return list(MessageItem.expiring_index.query(EXPIRING, MessageItem.expires <= now_ms,
                                                 limit=limit))


def forget_expiry(item: MessageItem) -> None:
    """Take a message out of the `expiring` index (it is gone, or its account is)."""
    updated(item, expiry_actions(None), MessageItem.uid.exists())


def idate_key(idate: int, uid: int) -> str:
    return f"{idate:015d}#{uid:010d}"


def flagged_key(idate: int, mailbox: str, uid: int) -> str:
    return f"{idate:015d}#{mailbox}#{uid:010d}"


def user_date_key(idate: int, msgid: str) -> str:
    return f"{idate:015d}-{msgid}"


def place(item: MessageItem, mailbox: str, uid: int, flagged_visible: bool) -> None:
    """Give an item its position: mailbox, uid and the index keys derived from them."""
    item.mailbox = mailbox
    item.uid = uid
    item.idateKey = idate_key(int(item.idate), uid)
    item.userDateKey = user_date_key(int(item.idate), item.msgid)
    item.flaggedKey = (flagged_key(int(item.idate), mailbox, uid)
                       if flagged_visible and item.has(FLAGGED) else None)


def get(mailbox: str, uid: int) -> MessageItem | None:
    try:
        return MessageItem.get(mailbox, uid, consistent_read=True)
    except MessageItem.DoesNotExist:
        return None


def get_many(mailbox: str, uids: Iterable[int]) -> list[MessageItem]:
    """Existing messages among `uids`, in uid order (one BatchGetItem per 100)."""
    unique = sorted(set(uids))
    found = batch_get([(MessageItem, (mailbox, uid)) for uid in unique])
    return [item for item in found if isinstance(item, MessageItem)]


def in_range(mailbox: str, first: int, last: int | None) -> Iterator[MessageItem]:
    """Messages with first <= uid <= last (no upper bound when last is None), uid order."""
    condition = (MessageItem.uid >= first) if last is None \
        else MessageItem.uid.between(first, last)
    return MessageItem.query(mailbox, range_key_condition=condition, consistent_read=True)


def all_in(mailbox: str, attributes: list[str] | None = None,
           limit: int | None = None) -> Iterator[MessageItem]:
    return MessageItem.query(mailbox, attributes_to_get=attributes, limit=limit,
                             consistent_read=True)


def uids_newest_first(mailbox: str) -> Iterator[tuple[int, bool]]:
    """(uid, is a draft) of every message, highest uid first: keys and flags only."""
    for item in MessageItem.query(mailbox, attributes_to_get=["uid", "flags"],
                                  scan_index_forward=False, consistent_read=True):
        yield int(item.uid), item.has(DRAFT)


def flagged_entries(user: str) -> Iterator[MessageItem]:
    """Every entry of the user's `flagged` index, keys only (for counting)."""
    return MessageItem.flagged_index.query(user, attributes_to_get=["mailbox", "uid"])


def of_user(user: str) -> Iterator[MessageItem]:
    """Every message of an account through the byUser index (listing attributes only)."""
    return MessageItem.by_user.query(user)


def find_folder(user: str, folder: str) -> bool:
    """Whether a message item references the S3 folder `folder` (index lookup)."""
    for _ in MessageItem.by_user.query(user, MessageItem.userDateKey == folder, limit=1):
        return True
    return False


def batch_put(items: Iterable[MessageItem]) -> None:
    """Unconditional bulk writes, for tooling that builds large mailboxes (bench, tests)."""
    with MessageItem.batch_write() as batch:
        for item in items:
            batch.save(item)
