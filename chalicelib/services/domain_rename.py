"""Renaming a domain (`PUT /addresses/renameDomain`): every address at the old domain
moves to the new one, with the main address of its account, and every domain alias
pointing at the old domain points at the new one.

Addresses are found through the `byAddress` index (a read of the whole index filtered
on the domain: the index is ordered by address, not by domain, and a rename is a rare
operator action). Each address moves in a transaction of its own: its new lookup (only
if that address is free; a taken one is left as it is and not counted), the old lookup
removed, the address item, and the account's `address` when it was this one. A run cut
short (the request's time budget) leaves every address either moved or not, and the same
call again moves the rest: moved addresses are no longer at the old domain.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.errors import UserNotFound
from chalicelib.services import users
from chalicelib.services.domain_aliases import normalize_domain
from chalicelib.store import addresses as address_store
from chalicelib.store import domain_aliases as alias_store
from chalicelib.store import lookups
from chalicelib.store.addresses import FORWARDED, KIND, AddressItem
from chalicelib.store.domain_aliases import DOMAIN_ALIASES, DomainAliasItem
from chalicelib.store.lookups import LookupItem
from chalicelib.store.transact import Transaction, run
from chalicelib.store.users import UserItem


@dataclass
class DomainRenamed:
    addresses: int = 0
    users: int = 0
    aliases: int = 0


class _Taken(Exception):
    pass


def rename_domain(old_domain: str, new_domain: str) -> DomainRenamed:
    old = normalize_domain(old_domain, "oldDomain")
    new = normalize_domain(new_domain, "newDomain")
    renamed = DomainRenamed()
    if old == new:
        return renamed
    suffix = f"@{old}"
    at_old = AddressItem.by_address.query(KIND, filter_condition=AddressItem.addrview.contains(
        suffix))
    for item in at_old:
        if item.addrview.endswith(suffix):
            moved = _move(item, new)
            renamed.addresses += moved is not None
            renamed.users += bool(moved)
    for alias in DomainAliasItem.query(DOMAIN_ALIASES, consistent_read=True):
        if alias.domain == old:
            renamed.aliases += _repoint(alias, old, new)
    return renamed


def _move(found: AddressItem, new: str) -> bool | None:
    """Move one address; None if it was not moved, else whether the account's main
    address moved with it."""
    local_view = found.addrview.rpartition("@")[0]
    new_view = f"{local_view}@{new}"
    new_address = f"{found.address.rpartition('@')[0]}@{new}"

    def build(tx: Transaction) -> bool | None:
        item = address_store.get(found.user, found.id)
        if item is None or item.addrview != found.addrview:
            return None  # deleted or changed since the index was read
        lookups.move_address(tx, item.addrview, new_view, item.user, item.id, new_address,
                             label="taken")
        tx.update(item, actions=[AddressItem.address.set(new_address),
                                 AddressItem.addrview.set(new_view)],
                  condition=AddressItem.addrview == item.addrview)
        if item.user == FORWARDED:
            return False
        try:
            user = users.get(item.user)
        except UserNotFound:
            return False
        if user.address != item.address:
            return False
        tx.update(user, actions=[UserItem.address.set(new_address)],
                  condition=UserItem.address == item.address)
        return True

    try:
        return run(build, errors={"taken": _Taken})
    except _Taken:
        return None


def _repoint(alias: DomainAliasItem, old: str, new: str) -> bool:
    """Point an alias of the old domain at the new one (alias item and its lookup)."""
    if alias.alias == new:
        return False  # an alias of the new domain onto itself would make no sense

    def build(tx: Transaction) -> bool:
        current = alias_store.get(alias.id)
        if current is None or current.domain != old:
            return False  # deleted or changed meanwhile
        tx.update(current, actions=[DomainAliasItem.domain.set(new)],
                  condition=DomainAliasItem.domain == old)
        tx.update(LookupItem(key=alias_store.lookup_key(current.alias)),
                  actions=[LookupItem.address.set(new)],
                  condition=LookupItem.target == current.id)
        return True

    return run(build)
