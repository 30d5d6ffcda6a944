"""Domain aliases (`/domainaliases`): an alias domain makes every address of its target
domain valid at the alias, for resolution and authentication (`addresses.resolve`,
`auth.resolve_login`). Aliases do not chain: a target is never itself followed."""
from __future__ import annotations

from pynamodb.expressions.condition import Condition

from chalicelib import addressing
from chalicelib.clock import now_ms
from chalicelib.cursors import decode_cursor
from chalicelib.errors import AliasExists, AliasNotFound, InputValidationError
from chalicelib.ids import new_id
from chalicelib.store import domain_aliases as store
from chalicelib.store import lookups
from chalicelib.store.domain_aliases import DOMAIN_ALIASES, DomainAliasItem
from chalicelib.store.lookups import LookupItem
from chalicelib.store.paging import Page, query_page
from chalicelib.store.transact import Transaction, run

SCOPE = "domainaliases"


def normalize_domain(domain: str, field: str) -> str:
    """The unicode, lower-case form of a domain name, or an input error on `field`."""
    try:
        return addressing.split_address(f"x@{domain}")[1]
    except ValueError:
        raise InputValidationError({field: f'"{field}" must be a valid domain name'}) from None


def create(alias: str, domain: str) -> str:
    alias = normalize_domain(alias, "alias")
    domain = normalize_domain(domain, "domain")
    if alias == domain:
        raise InputValidationError({"alias": '"alias" must differ from "domain"'})
    alias_id = new_id()

    def build(tx: Transaction) -> str:
        tx.save(LookupItem(key=store.lookup_key(alias), user=DOMAIN_ALIASES, target=alias_id,
                           address=domain),
                condition=LookupItem.key.does_not_exist(), label="alias")
        tx.save(DomainAliasItem(user=DOMAIN_ALIASES, id=alias_id, alias=alias, domain=domain,
                                created=now_ms()))
        return alias_id

    return run(build, errors={"alias": AliasExists})


def get(alias_id: str) -> DomainAliasItem:
    item = store.get(alias_id)
    if item is None:
        raise AliasNotFound("Invalid or unknown alias")
    return item


def resolve(alias: str) -> str:
    """The id of the alias for this domain (1 GetItem)."""
    found = lookups.resolve(store.lookup_key(normalize_domain(alias, "alias")))
    if found is None or not found.target:
        raise AliasNotFound()
    return found.target


def target_domain(domain: str) -> str | None:
    """The domain `domain` is an alias of, if it is one (1 GetItem)."""
    found = lookups.resolve(store.lookup_key(domain))
    return found.address if found is not None else None


def delete(alias_id: str) -> None:
    def build(tx: Transaction) -> None:
        item = get(alias_id)
        tx.delete(item, condition=DomainAliasItem.id.exists(), label="item")
        tx.delete(LookupItem(key=store.lookup_key(item.alias)),
                  condition=(LookupItem.target == item.id) | LookupItem.key.does_not_exist())

    run(build, errors={"item": AliasNotFound})


def listing(query: str | None, limit: int, next_cursor: str | None,
            previous_cursor: str | None) -> Page[DomainAliasItem]:
    """Aliases in creation order, optionally those whose alias or domain contains
    `query`."""
    cursor = None
    if next_cursor:
        cursor = decode_cursor(SCOPE, next_cursor, "next")
    elif previous_cursor:
        cursor = decode_cursor(SCOPE, previous_cursor, "previous")
    condition: Condition | None = None
    if query and query.strip():
        needle = query.strip().lower()
        condition = DomainAliasItem.alias.contains(needle) | DomainAliasItem.domain.contains(needle)
    return query_page(DomainAliasItem, DOMAIN_ALIASES, scope=SCOPE, key_names=["user", "id"],
                      limit=limit, cursor=cursor, filter_condition=condition)
