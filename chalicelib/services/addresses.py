"""Addresses: aliases of an account, unique across all accounts, one of them main.

An address is three items written together: the address item (under its user), the
lookup `address#<normalized>` that makes it unique and resolvable in one GetItem, and
`addressid#<id>` that finds the item by its id alone (`resolve_id`). The
user item's `address` and the `main` flags change in one transaction, so the account
and its addresses never disagree about which address is main.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynamodb.expressions.condition import Condition

from chalicelib import addressing
from chalicelib.clock import now_ms
from chalicelib.cursors import Cursor, decode_cursor
from chalicelib.errors import (AddressExistsError, AddressNotFound, ChangeNotAllowed,
                               InputValidationError, NotPermitted, TooMany)
from chalicelib.ids import new_id
from chalicelib.services import domain_aliases, users
from chalicelib.store import addresses as address_store
from chalicelib.store import counters, lookups
from chalicelib.store.addresses import INDEX_KEY_NAMES, KIND, AddressItem
from chalicelib.store.base import set_or_remove
from chalicelib.store.lookups import LookupItem
from chalicelib.store.paging import Page, query_page
from chalicelib.store.transact import Transaction, run
from chalicelib.store.users import UserItem

if TYPE_CHECKING:
    from chalicelib.schemas.addresses import CreateAddress, SearchAddresses, UpdateAddress

SEARCH_SCOPE = "addresses"
# Why 200: an account's addresses are listed unpaged (one Query, far below its 1 MB
# page at a few hundred bytes an address) and read whole when the account is deleted,
# whose transactions free 49 addresses each; 200 is far more aliases than a person or
# a role account uses, and keeps both bounded.
MAX_ADDRESSES = 200


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


def tag_fields(tags: list[str] | None) -> tuple[list[str], list[str]]:
    """An address's `tags` as given and `tagsview` (lower case, what filters match)."""
    tags = tags or []
    return tags, [tag.lower() for tag in tags]


def _switch_main(tx: Transaction, user: UserItem, address: str,
                 previous: list[AddressItem], actions: list[Any], condition: Any) -> None:
    """Make `address` the account's main address, un-marking the previous main items.

    The user update is conditioned on the address read, so two concurrent switches
    cannot both win and leave two items marked main.
    """
    same_main = (UserItem.address == user.address if user.address
                 else UserItem.address.does_not_exist())
    tx.update(user, actions=[UserItem.address.set(address), *actions],
              condition=condition & same_main, label="user")
    for item in previous:
        tx.update(item, actions=[AddressItem.main.set(False)],
                  condition=AddressItem.main == True, label="previous")  # noqa: E712


def _previous_mains(user_id: str, except_id: str | None = None) -> list[AddressItem]:
    return [item for item in address_store.list_for_user(user_id)
            if item.main and item.id != except_id]


def _one_more(user: UserItem) -> tuple[list[Any], Any]:
    """Actions and guard that count a new address against MAX_ADDRESSES, exactly under
    concurrency. An account created before the count existed is counted once."""
    live = UserItem.kind.exists()
    if user.addressCount is None:
        count = len(address_store.list_for_user(user.id))
        if count >= MAX_ADDRESSES:
            raise TooMany(f"A user can have at most {MAX_ADDRESSES} addresses")
        return [UserItem.addressCount.set(count + 1)], \
            live & UserItem.addressCount.does_not_exist()
    if int(user.addressCount) >= MAX_ADDRESSES:
        raise TooMany(f"A user can have at most {MAX_ADDRESSES} addresses")
    return [UserItem.addressCount.add(1)], live & (UserItem.addressCount < MAX_ADDRESSES)


def create(params: CreateAddress) -> str:
    """Register an alias; it becomes main if asked, or if the account has none (a
    wildcard address never does)."""
    check_wildcard(params.address, params.allowWildcard, params.main)
    addrview = addressing.address_view(params.address)
    is_wildcard = "*" in addrview
    tags, tagsview = tag_fields(params.tags)

    def build(tx: Transaction) -> str:
        user = users.get(params.user)
        becomes_main = params.main or (not user.address and not is_wildcard)
        address_id = new_id()
        lookups.add_address(tx, addrview, user.id, address_id, params.address)
        tx.save(AddressItem(user=user.id, id=address_id, address=params.address,
                            addrview=addrview, name=params.name, tags=tags, tagsview=tagsview,
                            main=becomes_main, metaData=params.metaData,
                            internalData=params.internalData, created=now_ms()),
                condition=AddressItem.id.does_not_exist())
        counters.add(tx, counters.ADDRESSES, 1)
        actions, condition = _one_more(user)
        if becomes_main:
            _switch_main(tx, user, params.address, _previous_mains(user.id), actions, condition)
        else:
            tx.update(user, actions=actions, condition=condition, label="user")
        return address_id

    return run(build, errors={"address": AddressExistsError})


def update(params: UpdateAddress) -> None:
    """Rename the address, change name or tags, or make it main (`main` can only become
    true). A rename moves its lookup (400 `AddressExistsError` if the new address is
    taken) and, for the account's main address, the account's `address` with it;
    wildcard addresses can not be renamed (WildDuck's `ChangeNotAllowed`)."""
    given = params.model_fields_set

    def build(tx: Transaction) -> None:
        user = users.get(params.user)
        item = address_store.get(user.id, params.id)
        if item is None:
            raise AddressNotFound()
        actions: list[Any] = []
        address = item.address
        if params.address is not None and params.address != item.address:
            address = params.address
            actions += _rename(tx, item, address)
        if "name" in given:
            actions.append(AddressItem.name.set(params.name) if params.name
                           else AddressItem.name.remove())
        if "tags" in given:
            tags, tagsview = tag_fields(params.tags)
            actions += [AddressItem.tags.set(tags), AddressItem.tagsview.set(tagsview)]
        actions += set_or_remove(AddressItem, ("metaData", "internalData"), params, given)
        make_main = bool(params.main) and not item.main
        if make_main:
            if "*" in address:
                raise InputValidationError({"main": "Can not set wildcard address as default"})
            actions.append(AddressItem.main.set(True))
        if not actions:
            return
        tx.update(item, actions=actions,
                  condition=AddressItem.id.exists() & (AddressItem.main == item.main) &
                  (AddressItem.addrview == item.addrview), label="address_item")
        if make_main:
            _switch_main(tx, user, address, _previous_mains(user.id, except_id=item.id),
                         [], UserItem.kind.exists())
        elif address != item.address and user.address == item.address:
            tx.update(user, actions=[UserItem.address.set(address)],
                      condition=UserItem.address == item.address, label="user")

    run(build, errors={"address": AddressExistsError})


def _rename(tx: Transaction, item: AddressItem, address: str) -> list[Any]:
    """The lookup moves to the new address (the spelling alone changes in place); the
    address item's actions are returned."""
    if "*" in item.address or "*" in address:
        raise ChangeNotAllowed()
    addrview = addressing.normalize_address(address)
    if addrview != item.addrview:
        lookups.move_address(tx, item.addrview, addrview, item.user, item.id, address)
    else:
        tx.update(LookupItem(key=lookups.address_key(addrview)),
                  actions=[LookupItem.address.set(address)],
                  condition=LookupItem.target == item.id)
    return [AddressItem.address.set(address), AddressItem.addrview.set(addrview)]


def delete(user_id: str, address_id: str) -> None:
    """Remove an alias and free its name. The main address cannot be removed: an
    account always keeps the address it sends from."""
    def build(tx: Transaction) -> None:
        user = users.get(user_id)
        item = address_store.get(user_id, address_id)
        if item is None:
            raise AddressNotFound()
        is_users_address = bool(user.address) and \
            addressing.normalize_address(user.address or "") == item.addrview
        if item.main or is_users_address:
            raise NotPermitted("Can not delete the main address")
        tx.delete(item, condition=AddressItem.main == False,  # noqa: E712
                  label="address_item")
        lookups.remove_address(tx, item.addrview, item.id)
        counters.add(tx, counters.ADDRESSES, -1)
        if user.addressCount is not None:
            tx.update(user, actions=[UserItem.addressCount.add(-1)],
                      condition=UserItem.addressCount.exists(), label="user")

    run(build)


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


def _search_filter(params: SearchAddresses) -> Condition | None:
    conditions: list[Condition] = []
    needle = _search_needle(params.query) if params.query else ""
    if needle:
        conditions.append(AddressItem.addrview.contains(needle))
    if params.forward:  # a list attribute: DynamoDB tests membership, not a substring
        target = params.forward
        if addressing.is_valid_address(target):
            target = addressing.display_address(target)  # the spelling targets are kept in
        conditions.append(AddressItem.targets.contains(target))
    if params.tags:
        any_tag = AddressItem.tagsview.contains(params.tags[0].lower())
        for tag in params.tags[1:]:
            any_tag |= AddressItem.tagsview.contains(tag.lower())
        conditions.append(any_tag)
    for tag in params.requiredTags or []:
        conditions.append(AddressItem.tagsview.contains(tag.lower()))
    condition: Condition | None = None
    for part in conditions:
        condition = part if condition is None else condition & part
    return condition


def search(params: SearchAddresses) -> Page[AddressItem]:
    """All addresses of live accounts in normalized address order, optionally those
    containing `query` and carrying the tags asked for."""
    return query_page(AddressItem, KIND, index="by_address", scope=SEARCH_SCOPE,
                      key_names=INDEX_KEY_NAMES, limit=params.limit, cursor=_cursor(params),
                      filter_condition=_search_filter(params))


def count(params: SearchAddresses) -> int:
    """How many addresses match the search: the counter (1 GetItem) without filters,
    else a count over the byAddress index (reads every registered address)."""
    condition = _search_filter(params)
    if condition is None:
        return counters.value(counters.ADDRESSES)
    return AddressItem.by_address.count(KIND, filter_condition=condition)


@dataclass(frozen=True)
class Owner:
    """Who holds an address: the address id, its registered spelling, the account."""

    id: str
    address: str
    user: str


def resolve(address: str, wildcard: bool = False) -> Owner:
    """Who owns an address, from the lookup item alone (1 GetItem; 2 more when the
    domain is an alias of another, `services/domain_aliases`; with `wildcard`, 1 or 2
    more when nothing matched exactly: a wildcard address, see `lookup`).

    `address` is the spelling the address was registered with (or the normalized one
    for lookups written before the spelling was kept). A forwarded address has the user
    `FORWARDED`.
    """
    found = lookup(address, wildcard)
    if found is None:
        raise AddressNotFound()
    return Owner(str(found.target), found.address or addressing.normalize_address(address),
                 found.user)


def resolve_id(address_id: str) -> tuple[Owner, AddressItem]:
    """Who owns the address with this id, and its item (1 GetItem of the id lookup, 1
    of the item). A deleted account's addresses (no `kind`: out of the listing until
    the purge) are not found, as by their address."""
    found = lookups.resolve(lookups.address_id_key(address_id))
    item = address_store.get(found.user, address_id) if found is not None else None
    if item is None or item.kind != KIND:
        raise AddressNotFound()
    return Owner(item.id, item.address, item.user), item


def item_of(owner: Owner) -> AddressItem | None:
    """The address item behind a resolved address (1 GetItem); None if it went since."""
    return address_store.get(owner.user, owner.id)


def lookup(address: str, wildcard: bool = False) -> LookupItem | None:
    """The lookup of an address, or of the same local part at the domain that the
    address's domain is an alias of; with `wildcard`, then the wildcard addresses of
    the domain, of the alias's target and `local@*` (1 BatchGetItem of their lists, and
    1 GetItem when one matches), as mail delivery resolves a recipient."""
    addrview = addressing.normalize_address(address)
    found = lookups.resolve(lookups.address_key(addrview))
    if found is not None:
        return found
    local, domain = addrview.rsplit("@", 1)
    target = domain_aliases.target_domain(domain)
    if target is not None:
        found = lookups.resolve(lookups.address_key(f"{local}@{target}"))
        if found is not None:
            return found
    if not wildcard:
        return None
    registered = lookups.wildcards([domain, *([target] if target else []),
                                    addressing.ANY_DOMAIN])
    candidates = [addressing.wildcard_match(f"{local}@{name}", registered.get(name, ()))
                  for name in (domain, target) if name]
    if f"{local}@*" in registered.get(addressing.ANY_DOMAIN, ()):
        candidates.append(f"{local}@*")
    for candidate in candidates:
        found = lookups.resolve(lookups.address_key(candidate)) if candidate else None
        if found is not None:
            return found
    return None


def check_wildcard(address: str, allowed: bool, main: bool = False) -> None:
    """An address with `*` needs `allowWildcard`, one of the wildcard forms, and may
    not be main (WildDuck's rules and texts)."""
    if "*" not in address:
        return
    if not allowed:
        raise InputValidationError({"address": "Address can not contain *"})
    problem = addressing.wildcard_problem(address)
    if problem:
        raise InputValidationError({"address": problem})
    if main:
        raise InputValidationError({"main": "Main address can not contain *"})
