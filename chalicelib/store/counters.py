"""Deployment-wide counters: live accounts and registered addresses.

One item per counter in the lookups table (`count#users`, `count#addresses`), changed
with an ADD in the very transaction that creates, deletes or restores what it counts, so
the listings' unfiltered `total` is one GetItem and always exact. Every such
transaction touches the same item: DynamoDB serializes them (a lost race is retried by
store/transact.run), which bounds account and address creation to a few hundred per
second; sharding the item would lift that if ever needed.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.store.base import meta
from chalicelib.store.transact import Transaction

USERS = "count#users"
ADDRESSES = "count#addresses"


class CounterItem(Model):
    Meta = meta("lookups")

    key = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)


def add(tx: Transaction, counter: str, delta: int) -> None:
    """Count `delta` more (or fewer) in `tx`; creates the counter on first use."""
    if delta:
        tx.update(CounterItem(key=counter), actions=[CounterItem.count.add(delta)])


def value(counter: str) -> int:
    """The counter now (1 consistent GetItem); 0 before anything was counted."""
    try:
        return max(0, int(CounterItem.get(counter, consistent_read=True).count or 0))
    except CounterItem.DoesNotExist:
        return 0
