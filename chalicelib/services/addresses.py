"""Addresses: aliases of an account, unique across all accounts, one of them main.

An address is two items written together: the address item (under its user) and the
lookup `address#<normalized>` that makes it unique and resolvable in one GetItem. The
user item's `address` and the `main` flags change in one transaction, so the account
and its addresses never disagree about which address is main.
"""
from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib import addressing
from chalicelib.clock import iso, now_ms
from chalicelib.cursors import Cursor, decode_cursor
from chalicelib.errors import AddressExistsError, AddressNotFound, Conflict, NotPermitted
from chalicelib.ids import new_id
from chalicelib.schemas.addresses import CreateAddress, SearchAddresses, UpdateAddress
from chalicelib.services import users
from chalicelib.store import addresses as address_store
from chalicelib.store import lookups
from chalicelib.store.addresses import INDEX_KEY_NAMES, KIND, AddressItem
from chalicelib.store.base import Transaction, TransactionFailed
from chalicelib.store.lookups import LookupItem
from chalicelib.store.paging import Page, query_page
from chalicelib.store.users import UserItem

RETRIES = 5
SEARCH_SCOPE = "addresses"
# A transaction failing on one of these labels lost a race: re-read and try again.
_RACES = {"user", "previous", "address_item"}


def _retryable(failure: TransactionFailed) -> bool:
    return failure.conflict or bool(failure.failed & _RACES)


def get(user_id: str, address_id: str) -> AddressItem:
    """An address of a live account (the account is checked: a deleted account's
    addresses linger until it is purged)."""
    users.get(user_id)
    item = address_store.get(user_id, address_id)
    if item is None:
        raise AddressNotFound()
    return item


def for_user(user_id: str) -> list[AddressItem]:
    """The account's addresses in normalized address order."""
    users.get(user_id)
    return sorted(address_store.list_for_user(user_id), key=lambda item: item.addrview)


def _tags(tags: list[str] | None) -> tuple[list[str], list[str]]:
    tags = tags or []
    return tags, [tag.lower() for tag in tags]


def _switch_main(tx: Transaction, user: UserItem, address: str,
                 previous: list[AddressItem]) -> None:
    """Make `address` the account's main address, un-marking the previous main items.

    The user update is conditioned on the address read, so two concurrent switches
    cannot both win and leave two items marked main.
    """
    same_main = (UserItem.address == user.address if user.address
                 else UserItem.address.does_not_exist())
    tx.update(user, actions=[UserItem.address.set(address)],
              condition=UserItem.kind.exists() & same_main, label="user")
    for item in previous:
        tx.update(item, actions=[AddressItem.main.set(False)],
                  condition=AddressItem.main == True, label="previous")  # noqa: E712


def _previous_mains(user_id: str, except_id: str | None = None) -> list[AddressItem]:
    return [item for item in address_store.list_for_user(user_id)
            if item.main and item.id != except_id]


def create(params: CreateAddress) -> str:
    """Register an alias; it becomes main if asked, or if the account has none."""
    addrview = addressing.normalize_address(params.address)
    tags, tagsview = _tags(params.tags)
    for _ in range(RETRIES):
        user = users.get(params.user)
        becomes_main = params.main or not user.address
        address_id = new_id()
        tx = Transaction()
        tx.save(LookupItem(key=lookups.address_key(addrview), user=user.id, target=address_id,
                           address=params.address),
                condition=LookupItem.key.does_not_exist(), label="address")
        tx.save(AddressItem(user=user.id, id=address_id, address=params.address,
                            addrview=addrview, name=params.name, tags=tags, tagsview=tagsview,
                            main=becomes_main, created=now_ms()),
                condition=AddressItem.id.does_not_exist())
        if becomes_main:
            _switch_main(tx, user, params.address, _previous_mains(user.id))
        else:
            tx.check(UserItem, user.id, condition=UserItem.kind.exists(), label="user")
        try:
            tx.commit()
            return address_id
        except TransactionFailed as failure:
            if "address" in failure.failed:
                raise AddressExistsError() from None
            if not _retryable(failure):
                raise
    raise Conflict()


def update(params: UpdateAddress) -> None:
    """Change name or tags, or make the address main (`main` can only become true)."""
    given = params.model_fields_set
    for _ in range(RETRIES):
        user = users.get(params.user)
        item = address_store.get(user.id, params.address)
        if item is None:
            raise AddressNotFound()
        actions: list[Any] = []
        if "name" in given:
            actions.append(AddressItem.name.set(params.name) if params.name
                           else AddressItem.name.remove())
        if "tags" in given:
            tags, tagsview = _tags(params.tags)
            actions += [AddressItem.tags.set(tags), AddressItem.tagsview.set(tagsview)]
        make_main = bool(params.main) and not item.main
        if make_main:
            actions.append(AddressItem.main.set(True))
        if not actions:
            return
        tx = Transaction()
        tx.update(item, actions=actions,
                  condition=AddressItem.id.exists() & (AddressItem.main == item.main),
                  label="address_item")
        if make_main:
            _switch_main(tx, user, item.address, _previous_mains(user.id, except_id=item.id))
        try:
            tx.commit()
            return
        except TransactionFailed as failure:
            if not _retryable(failure):
                raise
    raise Conflict()


def delete(user_id: str, address_id: str) -> None:
    """Remove an alias and free its name. The main address cannot be removed: an
    account always keeps the address it sends from."""
    for _ in range(RETRIES):
        user = users.get(user_id)
        item = address_store.get(user_id, address_id)
        if item is None:
            raise AddressNotFound()
        is_users_address = bool(user.address) and \
            addressing.normalize_address(user.address or "") == item.addrview
        if item.main or is_users_address:
            raise NotPermitted("Can not delete the main address")
        tx = Transaction()
        tx.delete(item, condition=AddressItem.main == False,  # noqa: E712
                  label="address_item")
        tx.delete(LookupItem(key=lookups.address_key(item.addrview)),
                  condition=(LookupItem.target == item.id) | LookupItem.key.does_not_exist(),
                  label="lookup")
        try:
            tx.commit()
            return
        except TransactionFailed as failure:
            if not _retryable(failure):
                raise
    raise Conflict()


def _search_needle(query: str) -> str:
    """A partial address in the normalized spelling, so `Андрис@` finds `андрис@...`
    and a full punycode address finds its unicode form."""
    text = query.strip()
    if addressing.is_valid_address(text):
        return addressing.normalize_address(text)
    return text.lower()


def _cursor(params: SearchAddresses) -> Cursor | None:
    if params.next:
        return decode_cursor(SEARCH_SCOPE, params.next, "next")
    if params.previous:
        return decode_cursor(SEARCH_SCOPE, params.previous, "previous")
    return None


def search(params: SearchAddresses) -> Page[AddressItem]:
    """All addresses of live accounts in normalized address order, optionally those
    containing `query`."""
    needle = _search_needle(params.query) if params.query else ""
    condition: Condition | None = AddressItem.addrview.contains(needle) if needle else None
    return query_page(AddressItem, KIND, index="by_address", scope=SEARCH_SCOPE,
                      key_names=INDEX_KEY_NAMES, limit=params.limit, cursor=_cursor(params),
                      filter_condition=condition)


def resolve(address: str) -> dict[str, Any]:
    """Who owns an address, from the lookup item alone (1 GetItem).

    `address` is the spelling the address was registered with (or the normalized one
    for lookups written before the spelling was kept).
    """
    addrview = addressing.normalize_address(address)
    found = lookups.resolve(lookups.address_key(addrview))
    if found is None:
        raise AddressNotFound()
    return {"id": found.target, "address": found.address or addrview, "user": found.user}


def search_result(item: AddressItem) -> dict[str, Any]:
    return {"id": item.id, "name": item.name, "address": item.address, "user": item.user,
            "tags": list(item.tags or [])}


def details(item: AddressItem) -> dict[str, Any]:
    return {"id": item.id, "name": item.name, "address": item.address,
            "main": bool(item.main), "tags": list(item.tags or []),
            "created": iso(item.created)}
