"""Routes of addresses: the admin search, resolution, and a user's aliases."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http import RequestContext, endpoint
from chalicelib.api.paging import page_response, shaped
from chalicelib.api.users import sending_limit
from chalicelib.clock import iso
from chalicelib.errors import MissingPrivileges
from chalicelib.ids import is_id
from chalicelib.metadata import loaded
from chalicelib.services import (addresses, addressregister, domain_aliases, domain_rename,
                                 forwarded)
from chalicelib.store.base import as_dict
from chalicelib.store.addresses import FORWARDED, AddressItem
from chalicelib.store.domain_aliases import DomainAliasItem

if TYPE_CHECKING:
    from chalicelib.schemas.addresses import (AddressRef, AddressRegisterQuery, CreateAddress,
                                              ResolveAddress, SearchAddresses, UpdateAddress,
                                              UserAddresses)
    from chalicelib.schemas.forwarded import (CreateDomainAlias, CreateForwarded,
                                              DomainAliasRef, ForwardedRef, ListDomainAliases,
                                              RenameDomain, ResolveDomainAlias,
                                              UpdateForwarded)

bp = Blueprint(__name__)


@endpoint(bp, "/addresses", "GET", "addresses.SearchAddresses", response="AddressSearch",
          summary="Search all addresses, ordered by normalized address")
def search_addresses(params: SearchAddresses, ctx: RequestContext) -> dict[str, Any]:
    page = addresses.search(params)

    def view(item: AddressItem) -> dict[str, Any]:
        return search_result(item, params.metaData, params.internalData and
                             ctx.principal is None)

    return page_response(page, params.page, shaped(page, view), total=addresses.count(params),
                         query=params.query or "")


@endpoint(bp, "/addresses/resolve/{address}", "GET", "addresses.ResolveAddress",
          response="ResolvedAddress | ForwardedAddress",
          summary="Find the user and address id an email address (or an address id) "
                  "belongs to, or the forwarded address it is")
def resolve_address(params: ResolveAddress, ctx: RequestContext) -> dict[str, Any]:
    operator = ctx.principal is None
    if is_id(params.address):  # as WildDuck, allowWildcard plays no part here
        found, item = addresses.resolve_id(params.address)
        if found.user == FORWARDED:
            return forwarded_details(item, operator)
        return owner(found, item, operator)
    found = addresses.resolve(params.address, params.allowWildcard)
    if found.user == FORWARDED:
        return forwarded_details(forwarded.get(found.id), operator)
    return owner(found, addresses.item_of(found), operator)


@endpoint(bp, "/users/{user}/addressregister", "GET", "addresses.AddressRegisterQuery",
          response="AddressRegister",
          summary="Addresses the user wrote to or received from, for autocomplete")
def address_register(params: AddressRegisterQuery) -> dict[str, Any]:
    found = addressregister.search(params.user, params.query, params.limit)
    return {"results": [{"id": entry.id, "name": entry.name or False, "address": entry.address}
                        for entry in found]}


@endpoint(bp, "/addresses/forwarded", "POST", "forwarded.CreateForwarded", response="CreatedId",
          summary="Create a forwarded address")
def create_forwarded(params: CreateForwarded) -> dict[str, Any]:
    return {"id": forwarded.create(params)}


@endpoint(bp, "/addresses/forwarded/{id}", "GET", "forwarded.ForwardedRef",
          response="ForwardedAddress",
          summary="Get a forwarded address")
def get_forwarded(params: ForwardedRef) -> dict[str, Any]:
    # WildDuck answers a missing name as false here, as "" when resolving the address.
    found = forwarded_details(forwarded.get(params.id), operator=True)
    return {**found, "name": found["name"] or False}


@endpoint(bp, "/addresses/forwarded/{id}", "PUT", "forwarded.UpdateForwarded", response="Done",
          summary="Change a forwarded address, its targets or limits")
def update_forwarded(params: UpdateForwarded) -> dict[str, Any]:
    forwarded.update(params)
    return {}


@endpoint(bp, "/addresses/forwarded/{id}", "DELETE", "forwarded.ForwardedRef", response="Done",
          summary="Delete a forwarded address")
def delete_forwarded(params: ForwardedRef) -> dict[str, Any]:
    forwarded.delete(params.id)
    return {}


@endpoint(bp, "/domainaliases", "GET", "forwarded.ListDomainAliases", response="DomainAliasList",
          summary="List domain aliases")
def list_domain_aliases(params: ListDomainAliases) -> dict[str, Any]:
    page = domain_aliases.listing(params.query, params.limit, params.next, params.previous)
    return page_response(page, params.page, shaped(page, domain_alias),
                         query=params.query or "")


@endpoint(bp, "/addresses/renameDomain", "PUT", "forwarded.RenameDomain",
          response="DomainRenamed",
          summary="Move every address (and alias target) at a domain to another domain")
def rename_domain(params: RenameDomain) -> dict[str, Any]:
    renamed = domain_rename.rename_domain(params.oldDomain, params.newDomain)
    return {"modifiedAddresses": renamed.addresses, "modifiedUsers": renamed.users,
            "modifiedDkim": 0, "modifiedAliases": renamed.aliases}


@endpoint(bp, "/domainaliases", "POST", "forwarded.CreateDomainAlias", response="CreatedId",
          summary="Make a domain an alias of another")
def create_domain_alias(params: CreateDomainAlias) -> dict[str, Any]:
    return {"id": domain_aliases.create(params.alias, params.domain)}


@endpoint(bp, "/domainaliases/resolve/{alias}", "GET", "forwarded.ResolveDomainAlias",
          response="CreatedId", summary="Find the id of a domain alias")
def resolve_domain_alias(params: ResolveDomainAlias) -> dict[str, Any]:
    return {"id": domain_aliases.resolve(params.alias)}


@endpoint(bp, "/domainaliases/{alias}", "GET", "forwarded.DomainAliasRef", response="DomainAlias",
          summary="Get a domain alias")
def get_domain_alias(params: DomainAliasRef) -> dict[str, Any]:
    item = domain_aliases.get(params.alias)
    return {**domain_alias(item), "created": iso(item.created)}


@endpoint(bp, "/domainaliases/{alias}", "DELETE", "forwarded.DomainAliasRef", response="Done",
          summary="Delete a domain alias")
def delete_domain_alias(params: DomainAliasRef) -> dict[str, Any]:
    domain_aliases.delete(params.alias)
    return {}


@endpoint(bp, "/users/{user}/addresses", "GET", "addresses.UserAddresses",
          response="UserAddressList",
          summary="List the addresses of a user")
def list_user_addresses(params: UserAddresses, ctx: RequestContext) -> dict[str, Any]:
    internal = params.internalData and ctx.principal is None
    return {"results": [details(item, params.metaData, internal)
                        for item in addresses.for_user(params.user)]}


def _operator_data(params: CreateAddress | UpdateAddress, ctx: RequestContext) -> None:
    if ctx.principal is not None and "internalData" in params.model_fields_set:
        raise MissingPrivileges("A user token may not change internalData")


@endpoint(bp, "/users/{user}/addresses", "POST", "addresses.CreateAddress", response="CreatedId",
          summary="Add an address to a user")
def create_address(params: CreateAddress, ctx: RequestContext) -> dict[str, Any]:
    _operator_data(params, ctx)
    return {"id": addresses.create(params)}


@endpoint(bp, "/users/{user}/addresses/{id}", "GET", "addresses.AddressRef",
          response="UserAddressDetails",
          summary="Get one address of a user")
def get_address(params: AddressRef, ctx: RequestContext) -> dict[str, Any]:
    return details(addresses.get(params.user, params.id), True, ctx.principal is None)


@endpoint(bp, "/users/{user}/addresses/{id}", "PUT", "addresses.UpdateAddress",
          response="Done",
          summary="Rename an address, make it main, or change its name or tags")
def update_address(params: UpdateAddress, ctx: RequestContext) -> dict[str, Any]:
    _operator_data(params, ctx)
    addresses.update(params)
    return {}


@endpoint(bp, "/users/{user}/addresses/{id}", "DELETE", "addresses.AddressRef",
          response="Done",
          summary="Delete an alias address (not the main one)")
def delete_address(params: AddressRef) -> dict[str, Any]:
    addresses.delete(params.user, params.id)
    return {}


# --------------------------------------------------------------------------- views


def search_result(item: AddressItem, meta_data: bool, internal_data: bool) -> dict[str, Any]:
    """The search form; metadata only when asked (and set), as WildDuck does."""
    is_forwarded = item.user == FORWARDED
    result: dict[str, Any] = {
        "id": item.id, "name": item.name or False, "address": item.address,
        "user": None if is_forwarded else item.user, "forwarded": is_forwarded,
        "forwardedDisabled": is_forwarded and bool(item.forwardedDisabled),
        "tags": list(item.tags or [])}
    if is_forwarded:
        result["targets"] = list(item.targets or [])
    if meta_data and item.metaData:
        result["metaData"] = loaded(item.metaData)
    if internal_data and item.internalData:
        result["internalData"] = loaded(item.internalData)
    return result


def details(item: AddressItem, meta_data: bool, internal_data: bool) -> dict[str, Any]:
    """An address of a user; its metadata when asked for and set. `name` is false when
    the address has none, as WildDuck answers."""
    result = {"id": item.id, "name": item.name or False, "address": item.address,
              "main": bool(item.main), "tags": list(item.tags or []),
              "created": iso(item.created)}
    if meta_data and item.metaData:
        result["metaData"] = loaded(item.metaData)
    if internal_data and item.internalData:
        result["internalData"] = loaded(item.internalData)
    return result


def owner(found: addresses.Owner, item: AddressItem | None, operator: bool) -> dict[str, Any]:
    """Who holds an address, with the address's tags, creation time and metadata."""
    result: dict[str, Any] = {"id": found.id, "address": found.address, "user": found.user}
    if item is not None:
        result |= {"tags": list(item.tags or []), "created": iso(item.created)}
        if item.metaData:
            result["metaData"] = loaded(item.metaData)
        if operator and item.internalData:
            result["internalData"] = loaded(item.internalData)
    return result


def forwarded_details(item: AddressItem, operator: bool) -> dict[str, Any]:
    """A forwarded address, with its live daily forward counter."""
    result: dict[str, Any] = {
        "id": item.id, "name": item.name or "", "address": item.address,
        "targets": list(item.targets or []),
        "limits": {"forwards": sending_limit(item, "forwards", int(time.time()))},
        "autoreply": _autoreply(item), "forwardedDisabled": bool(item.forwardedDisabled),
        "tags": list(item.tags or []), "created": iso(item.created)}
    if item.metaData:
        result["metaData"] = loaded(item.metaData)
    if operator and item.internalData:
        result["internalData"] = loaded(item.internalData)
    return result


def _autoreply(item: AddressItem) -> dict[str, Any]:
    """The fields that were set, as WildDuck shows them (`{status: false}` for none)."""
    stored = as_dict(item.autoreply)
    shown: dict[str, Any] = {"status": bool(stored.get("status"))}
    for name in ("name", "subject", "text", "html"):
        if name in stored:
            shown[name] = str(stored[name] or "")
    for name in ("start", "end"):
        if name in stored:
            shown[name] = iso(int(stored[name])) if stored[name] else False
    return shown


def domain_alias(item: DomainAliasItem) -> dict[str, Any]:
    return {"id": item.id, "alias": item.alias, "domain": item.domain}
