"""The filters table: a user's message filters, and the account item delivery reads with them.

Partition `user`, two kinds of item (key layout built only here):

- `id = <24-hex filter id>`: a filter. `query` (`criteria` in Python) holds the match
  fields (`from`, `to`, `subject`, `listId`, `text`, `ha`, `size`), `action` the actions
  (`seen`, `flag`, `delete`, `spam`, `mailbox` id, `targets` as `{id, type, value}`).
- `id = "~account"`: the autoreply settings (`autoreply` map), the ids of INBOX and Junk
  once a delivery has looked them up (`mailboxes` map), and `rev`, bumped by every
  filter creation so that the 400-filter limit holds under concurrency. `~` sorts after
  every hex id, and no listing or count shows this item.

So one Query of the partition gives delivery everything it needs about the account
besides the user item.
"""
from __future__ import annotations

from typing import Any, Iterator

from pynamodb.attributes import (BooleanAttribute, MapAttribute, NumberAttribute,
                                 UnicodeAttribute)
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib.store.base import as_dict, meta
from chalicelib.store.batch import batch_get
from chalicelib.store.transact import retrying

ACCOUNT = "~account"


class FilterItem(Model):
    Meta = meta("filters")

    user = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(null=True)
    # Stored as `query`; the Python name differs because `query` is Model's classmethod.
    criteria = MapAttribute(attr_name="query", default=dict)
    action = MapAttribute(default=dict)
    disabled = BooleanAttribute(default=False)
    metaData = UnicodeAttribute(null=True)  # JSON text of an object
    created = NumberAttribute(null=True)
    # Only on the account item.
    autoreply = MapAttribute(null=True)
    mailboxes = MapAttribute(null=True)
    rev = NumberAttribute(null=True)

    @property
    def is_filter(self) -> bool:
        return self.id != ACCOUNT

    @property
    def target_mailbox(self) -> str | None:
        mailbox = as_dict(self.action).get("mailbox")
        return mailbox if isinstance(mailbox, str) else None


def partition(user: str) -> tuple[list[FilterItem], FilterItem | None]:
    """Every filter of the user in id (creation) order, and the account item: one Query."""
    filters: list[FilterItem] = []
    account: FilterItem | None = None
    for item in FilterItem.query(user, consistent_read=True):
        if item.is_filter:
            filters.append(item)
        else:
            account = item
    return filters, account


def summary(user: str) -> tuple[int, bool]:
    """How many filters the user has and whether the autoreply is on: one Query of the
    partition reading only each item's id and autoreply status."""
    count, autoreply = 0, False
    for item in FilterItem.query(user, consistent_read=True,
                                 attributes_to_get=["id", "autoreply"]):
        if item.is_filter:
            count += 1
        else:
            autoreply = bool(as_dict(item.autoreply).get("status"))
    return count, autoreply


def autoreplies_on(users: list[str]) -> set[str]:
    """Which of these accounts have their autoreply switched on: their account items,
    in one BatchGetItem (more past 100 accounts)."""
    found = batch_get([(FilterItem, (user, ACCOUNT)) for user in users], consistent=False)
    return {item.user for item in found
            if item is not None and as_dict(item.autoreply).get("status")}


def get(user: str, filter_id: str) -> FilterItem | None:
    try:
        return FilterItem.get(user, filter_id, consistent_read=True)
    except FilterItem.DoesNotExist:
        return None


def account_item(user: str) -> FilterItem:
    """The account item as a key (for updates that create it when missing)."""
    return FilterItem(user=user, id=ACCOUNT)


def remember_mailboxes(user: str, ids: dict[str, str]) -> None:
    """Keep INBOX's and Junk's ids on the account item, for the next deliveries."""
    retrying(lambda: account_item(user).update(actions=[FilterItem.mailboxes.set(ids)]))


def same_rev(rev: int | None) -> Condition:
    """No filter was created since `rev` was read (absent: none ever was)."""
    return FilterItem.rev.does_not_exist() if rev is None else FilterItem.rev == rev


def exists() -> Condition:
    return FilterItem.id.exists()


def scan_page(limit: int, start: dict[str, Any] | None) -> tuple[list[FilterItem],
                                                                   dict[str, Any] | None]:
    """Filters of every user (the operator-wide listing), `limit` at most per call,
    resuming from `start` (a DynamoDB key); account items are skipped."""
    found: list[FilterItem] = []
    results = FilterItem.scan(last_evaluated_key=start, page_size=max(limit, 25))
    iterator: Iterator[FilterItem] = iter(results)
    for item in iterator:
        if item.is_filter:
            found.append(item)
            if len(found) == limit:
                return found, {"user": {"S": item.user}, "id": {"S": item.id}}
    return found, None


def targeting(user: str, mailbox_id: str) -> list[FilterItem]:
    """The user's filters that move mail into `mailbox_id` (one Query of the user's
    filters, at most 400, filtered here)."""
    return [item for item in partition(user)[0] if item.target_mailbox == mailbox_id]


def still_targets(mailbox_id: str) -> Condition:
    """Condition for deleting a filter only while it still points at the mailbox."""
    return FilterItem.action["mailbox"] == mailbox_id
