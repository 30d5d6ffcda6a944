"""Deployment-wide counters: live accounts and registered addresses.

One item per counter in the lookups table (`count#users`, `count#addresses`), changed
with an ADD in the very transaction that creates, deletes or restores what it counts, so
the listings' unfiltered `total` is one GetItem and always exact. Every such
transaction touches the same item: DynamoDB serializes them (a lost race is retried by
store/transact.run), which bounds account and address creation to a few hundred per
second; sharding the item would lift that if ever needed. They are lookup items (only
`key` and `count`): one model per table keeps one client per table and thread.
"""
from __future__ import annotations

from chalicelib.store import addresses, lookups
from chalicelib.store.addresses import AddressItem
from chalicelib.store.lookups import LookupItem
from chalicelib.store.transact import Transaction
from chalicelib.store.users import LIVE, UserItem

USERS = "count#users"
ADDRESSES = "count#addresses"


def add(tx: Transaction, counter: str, delta: int) -> None:
    """Count `delta` more (or fewer) in `tx`; creates the counter on first use."""
    if delta:
        tx.update(LookupItem(key=counter), actions=[LookupItem.count.add(delta)])


def value(counter: str) -> int:
    """The counter now (1 consistent GetItem); 0 before anything was counted."""
    found = lookups.resolve(counter)
    return max(0, int(found.count or 0)) if found is not None else 0


def recount() -> dict[str, int]:
    """Set both counters from the tables: live accounts (a COUNT Query of `byKind`) and
    addresses, forwarded ones included (a COUNT Query of `byAddress`). For an
    installation that held accounts before the counters existed; counts only, reads
    no item. A creation or deletion while it runs can be missed: run it when none is
    expected, and again if unsure."""
    found = {USERS: UserItem.by_kind.count(LIVE),
             ADDRESSES: AddressItem.by_address.count(addresses.KIND)}
    for counter, count in found.items():
        LookupItem(key=counter).update(actions=[LookupItem.count.set(count)])
    return found


if __name__ == "__main__":
    # The upgrade of a stage that held data before: counters, then address id lookups.
    print(recount())
    print(lookups.backfill_address_ids())
