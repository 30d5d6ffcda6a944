"""The lookups table: one item per unique name, written with the entity it names.

Keys: `username#<unameview>`, `address#<normalized address>`, `addressid#<address id>`,
`mailbox#<user>#<path>`.
A strongly consistent GetItem on a key resolves the name; `attribute_not_exists` on the
put makes the name unique. `wildcards#<domain>` (`wildcards#*` for `user@*`) lists the
wildcard addresses registered at a domain (`patterns`), so resolving an address nobody
has costs one more read, not one per possible wildcard; an entry can outlive its
address (an account's deletion leaves it), which is harmless: the address lookup decides.
`addressid#<id>` finds an address item by its id alone (its table is keyed by user):
`user` is the partition (an account, or `*forwarded`), written and removed with the
item; it outlives an account's deletion until the purge, so resolving by id checks the
item itself (a deleted account's addresses have no `kind`).
"""
from __future__ import annotations

import hashlib

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.models import Model

from chalicelib.store.addresses import AddressItem
from chalicelib.store.base import meta
from chalicelib.store.batch import batch_get
from chalicelib.store.transact import Transaction

# DynamoDB refuses partition keys longer than this; a legal mailbox path (128 levels of
# 512 characters) can be far longer.
MAX_KEY_BYTES = 2048


class LookupItem(Model):
    Meta = meta("lookups")

    key = UnicodeAttribute(hash_key=True)
    user = UnicodeAttribute()
    target = UnicodeAttribute(null=True)  # the address or mailbox id the name points at
    # Address lookups keep the spelling the address was registered with, so resolving
    # an address answers in one GetItem without reading the address item.
    address = UnicodeAttribute(null=True)
    # Counter items (`count#...`, store/counters.py) carry only `key` and this.
    count = NumberAttribute(null=True)
    patterns = UnicodeSetAttribute(null=True)  # `wildcards#` items only


WILDCARDS_OWNER = "*wildcards"


def username_key(unameview: str) -> str:
    return f"username#{unameview}"


def address_key(addrview: str) -> str:
    return f"address#{addrview}"


def address_id_key(address_id: str) -> str:
    return f"addressid#{address_id}"


def save_address_id(tx: Transaction, address_id: str, user: str) -> None:
    """Make a new address item findable by its id (in the item's own transaction)."""
    tx.save(LookupItem(key=address_id_key(address_id), user=user, target=address_id),
            condition=LookupItem.key.does_not_exist())


def delete_address_id(tx: Transaction, address_id: str) -> None:
    """Forget an address id, with its item (ids are never reused: no condition)."""
    tx.delete(LookupItem(key=address_id_key(address_id)))


def backfill_address_ids() -> dict[str, int]:
    """Write what an older release did not keep for its addresses: the id lookup of
    every address item (deleted accounts' included) and the per-domain lists of wildcard
    addresses. One Scan of the addresses table, a BatchWriteItem per 25 id lookups and
    an UpdateItem per domain with wildcards. Idempotent: both are derived from the
    items. An address deleted while it runs may keep a stray lookup or list entry,
    which finds no item: harmless."""
    written = 0
    patterns: dict[str, set[str]] = {}
    with LookupItem.batch_write() as batch:
        for item in AddressItem.scan(attributes_to_get=["user", "id", "addrview", "kind"]):
            batch.save(LookupItem(key=address_id_key(item.id), user=item.user, target=item.id))
            written += 1
            if item.kind and "*" in (item.addrview or ""):
                patterns.setdefault(item.addrview.rpartition("@")[2], set()).add(item.addrview)
    for domain, found in patterns.items():
        LookupItem(key=wildcards_key(domain)).update(
            actions=[LookupItem.patterns.add(found), LookupItem.user.set(WILDCARDS_OWNER)])
    return {"addressIdLookups": written, "wildcardDomains": len(patterns)}


def wildcards_key(domain: str) -> str:
    return f"wildcards#{domain}"


def add_address(tx: Transaction, addrview: str, user: str, address_id: str,
                address: str) -> None:
    """The lookups of a new address, written with its item: its name (unique, label
    `address` when taken), its id, and a wildcard's entry in its domain's list."""
    tx.save(LookupItem(key=address_key(addrview), user=user, target=address_id,
                       address=address),
            condition=LookupItem.key.does_not_exist(), label="address")
    save_address_id(tx, address_id, user)
    register_wildcard(tx, addrview, present=True)


def remove_address(tx: Transaction, addrview: str, address_id: str) -> None:
    """The lookups of a deleted address, removed with its item."""
    tx.delete(LookupItem(key=address_key(addrview)),
              condition=(LookupItem.target == address_id) | LookupItem.key.does_not_exist())
    delete_address_id(tx, address_id)
    register_wildcard(tx, addrview, present=False)


def move_address(tx: Transaction, old_view: str, new_view: str, user: str,
                 address_id: str, address: str, label: str = "address") -> None:
    """A renamed address: the new name claimed (label `label` when taken), the old one
    freed; the id stays. A wildcard joins its new domain's list and leaves the old one's,
    unless both are one list (a transaction changes an item once; a stale entry is
    harmless)."""
    tx.save(LookupItem(key=address_key(new_view), user=user, target=address_id,
                       address=address),
            condition=LookupItem.key.does_not_exist(), label=label)
    tx.delete(LookupItem(key=address_key(old_view)),
              condition=(LookupItem.target == address_id) | LookupItem.key.does_not_exist())
    register_wildcard(tx, new_view, present=True)
    if old_view.rpartition("@")[2] != new_view.rpartition("@")[2]:
        register_wildcard(tx, old_view, present=False)


def register_wildcard(tx: Transaction, addrview: str, present: bool) -> None:
    """Add a wildcard address (normalized) to its domain's list, or take it out; any
    other address has no list to be in."""
    if "*" not in addrview:
        return
    domain = addrview.rpartition("@")[2]
    change = LookupItem.patterns.add({addrview}) if present else \
        LookupItem.patterns.delete({addrview})
    tx.update(LookupItem(key=wildcards_key(domain)),
              actions=[change, LookupItem.user.set(WILDCARDS_OWNER)])


def wildcards(domains: list[str]) -> dict[str, set[str]]:
    """The wildcard addresses registered at each domain: one BatchGetItem."""
    unique = list(dict.fromkeys(domains))
    found = batch_get([(LookupItem, (wildcards_key(domain),)) for domain in unique])
    return {domain: set(item.patterns or ()) for domain, item in zip(unique, found)
            if isinstance(item, LookupItem)}


def mailbox_key(user: str, path: str) -> str:
    """The key that makes `path` unique for `user`.

    Paths too long for a DynamoDB key are replaced by their SHA-256. The digest form
    starts with `/`, which no normalized path can, so it never equals a real path.
    """
    key = f"mailbox#{user}#{path}"
    if len(key.encode("utf-8")) <= MAX_KEY_BYTES:
        return key
    return f"mailbox#{user}#/sha256/{hashlib.sha256(path.encode('utf-8')).hexdigest()}"


def resolve(key: str) -> LookupItem | None:
    try:
        return LookupItem.get(key, consistent_read=True)
    except LookupItem.DoesNotExist:
        return None
