"""The search table: postings (one per distinct term of a message) and index docs (one
per indexed message), both sorted by the message's `userDateKey` (`<idate>-<msgid>`),
which never changes when a message moves, so a search reads in date order and a
message's entries are found again after a move.

A doc is also the indexer's lease on its message (`lease`, `owner`): the stream's
shards are read in parallel, and the records of one message (a move is a REMOVE at the
old key and an INSERT at the new one) may be handled at the same time by two readers.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib.store.base import meta

POSTING_ATTRIBUTES = ["mailbox", "uid", "size", "att", "thread"]


class PostingItem(Model):
    Meta = meta("search")

    key = UnicodeAttribute(hash_key=True)  # t#<user>#<term>
    sort = UnicodeAttribute(range_key=True)  # the message's userDateKey
    mailbox = UnicodeAttribute()
    uid = NumberAttribute()
    size = NumberAttribute()
    att = NumberAttribute()  # 1 when the message has attachments (filterable as a number)
    thread = UnicodeAttribute()

    @property
    def idate(self) -> int:
        return int(self.sort.split("-", 1)[0])


class DocItem(Model):
    Meta = meta("search")

    key = UnicodeAttribute(hash_key=True)  # d#<user>
    sort = UnicodeAttribute(range_key=True)
    mailbox = UnicodeAttribute(null=True)  # where its postings say it is; unset: none
    uid = NumberAttribute(null=True)
    terms = ListAttribute(of=UnicodeAttribute, null=True)
    lease = NumberAttribute(null=True)  # epoch ms the lease ends
    owner = UnicodeAttribute(null=True)


def posting_key(user: str, term: str) -> str:
    return f"t#{user}#{term}"


def doc_key(user: str) -> str:
    return f"d#{user}"


# Bounds are inclusive. Sort keys all have one length and use digits, `-` and hex
# letters only, which is what makes the strings below exact bounds.

def date_low(epoch_ms: int) -> str:
    """Below every message of that millisecond and above every earlier one."""
    return f"{epoch_ms:015d}"


def date_high(epoch_ms: int) -> str:
    return f"{epoch_ms:015d}~"


def after(sort: str) -> str:
    """The lowest bound above `sort` and no other key."""
    return sort + "!"


def before(sort: str) -> str:
    """The highest bound below `sort` and no other key."""
    return sort[:-1] + chr(ord(sort[-1]) - 1) + "~"


# ------------------------------------------------------------------------- docs (lease)

def claim(user: str, sort: str, owner: str, now_ms: int, lease_ms: int) -> DocItem | None:
    """Take the lease on a message's doc (created when missing); None while another
    owner holds it (the same owner takes it again: a retry of its own work). The answer
    is the doc as it stands (one UpdateItem)."""
    doc = DocItem(doc_key(user), sort)
    try:
        doc.update(actions=[DocItem.lease.set(now_ms + lease_ms), DocItem.owner.set(owner)],
                   condition=DocItem.lease.does_not_exist() | (DocItem.lease < now_ms)
                   | (DocItem.owner == owner))
    except UpdateError as error:
        if _conditional(error):
            return None
        raise
    return doc


def settle(doc: DocItem, owner: str, mailbox: str, uid: int, terms: list[str]) -> bool:
    """Record where the message's postings point and give the lease back; False when
    the lease was lost meanwhile (the work is then done again by its new holder)."""
    try:
        doc.update(actions=[DocItem.mailbox.set(mailbox), DocItem.uid.set(uid),
                            DocItem.terms.set(terms), DocItem.lease.remove(),
                            DocItem.owner.remove()],
                   condition=DocItem.owner == owner)
    except UpdateError as error:
        if _conditional(error):
            return False
        raise
    return True


def drop(doc: DocItem, owner: str) -> bool:
    """Delete the doc of a message that is gone (its postings already are)."""
    try:
        doc.delete(condition=DocItem.owner == owner)
    except DeleteError as error:
        if _conditional(error):
            return False
        raise
    return True


def _conditional(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def docs_of(user: str, after: str | None = None) -> Iterator[DocItem]:
    """Every doc of an account in date order, from after `after` (backfill's cleanup)."""
    condition = DocItem.sort > after if after else None
    return DocItem.query(doc_key(user), range_key_condition=condition, consistent_read=True)


# ----------------------------------------------------------------------------- postings

def put_postings(user: str, sort: str, terms: Iterable[str], **fields: Any) -> None:
    """One posting per term (BatchWriteItem, 25 a call), pointing at the message."""
    with PostingItem.batch_write() as batch:
        for term in terms:
            batch.save(PostingItem(posting_key(user, term), sort, **fields))


def delete_postings(user: str, sort: str, terms: Iterable[str]) -> None:
    with PostingItem.batch_write() as batch:
        for term in terms:
            batch.delete(PostingItem(posting_key(user, term), sort))


def postings(user: str, term: str, *, forward: bool, low: str | None, high: str | None,
             filter_condition: Condition | None = None,
             limit: int | None = None) -> Iterator[PostingItem]:
    """A term's postings in date order within [low, high]."""
    if _empty(low, high):
        return iter(())
    return PostingItem.query(posting_key(user, term), range_key_condition=_between(low, high),
                             filter_condition=filter_condition, scan_index_forward=forward,
                             limit=limit, page_size=limit and max(limit, 50))


def count_postings(user: str, term: str, *, low: str | None, high: str | None,
                   filter_condition: Condition | None = None) -> int:
    """How many postings match (Select=COUNT: read capacity for every posting, nothing
    sent back but the number)."""
    if _empty(low, high):
        return 0
    return int(PostingItem.count(posting_key(user, term), range_key_condition=_between(low, high),
                                 filter_condition=filter_condition))


def present(user: str, term: str, sorts: Iterable[str]) -> set[str]:
    """Which of the messages `sorts` have a posting for `term` (BatchGetItem, keys only)."""
    keys = [(posting_key(user, term), sort) for sort in dict.fromkeys(sorts)]
    return {item.sort for item in PostingItem.batch_get(keys, attributes_to_get=["key", "sort"])}


def _empty(low: str | None, high: str | None) -> bool:
    """Bounds that cross (DynamoDB refuses a BETWEEN whose bounds are reversed)."""
    return low is not None and high is not None and low > high


def _between(low: str | None, high: str | None) -> Condition | None:
    if low is not None and high is not None:
        return PostingItem.sort.between(low, high)
    if low is not None:
        return PostingItem.sort >= low
    if high is not None:
        return PostingItem.sort <= high
    return None


def messages_after(user: str, after: str | None) -> Iterator[Any]:
    """An account's messages in `userDateKey` order after `after` (the messages table's
    `byUser` index: listing attributes, enough to find each one)."""
    from chalicelib.store.messages import MessageItem
    condition = MessageItem.userDateKey > after if after else None
    return MessageItem.by_user.query(user, range_key_condition=condition)


def users_after(after: str | None) -> Iterator[str]:
    """Ids of live accounts in id order after `after` (the users table's `byKind`)."""
    from chalicelib.store.users import LIVE, UserItem
    condition = UserItem.id > after if after else None
    return (user.id for user in UserItem.by_kind.query(LIVE, range_key_condition=condition,
                                                       attributes_to_get=["id"]))


# What a search checks on a message when it needs no text (flags, header filters).
CHECKED_ATTRIBUTES = ["mailbox", "uid", "userDateKey", "flags", "subject", "from", "to", "cc"]


def messages_at(places: list[tuple[str, int]], attributes: list[str] | None) -> list[Any]:
    """The messages at (mailbox, uid) places that exist, with only `attributes` (all
    when None): BatchGetItem, 100 a call, eventually consistent. DynamoDB bills the
    whole item either way; fewer attributes are less to send and to decode."""
    from chalicelib.store.messages import MessageItem
    return list(MessageItem.batch_get(list(dict.fromkeys(places)), consistent_read=False,
                                      attributes_to_get=attributes))
