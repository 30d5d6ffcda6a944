"""Routes of addresses: the admin search, resolution, and a user's aliases."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import responses as r
from chalicelib.api.http import RequestContext, endpoint
from chalicelib.api.paging import page_response, shaped
from chalicelib.clock import iso
from chalicelib.errors import MissingPrivileges
from chalicelib.schemas.metadata import loaded
from chalicelib.schemas.addresses import (AddressRef, CreateAddress, ResolveAddress,
                                          SearchAddresses, UpdateAddress, UserAddresses)
from chalicelib.services import addresses
from chalicelib.store.addresses import AddressItem

bp = Blueprint(__name__)


@endpoint(bp, "/addresses", "GET", SearchAddresses, response=r.AddressSearch,
          summary="Search all addresses, ordered by normalized address")
def search_addresses(params: SearchAddresses, ctx: RequestContext) -> dict[str, Any]:
    page = addresses.search(params)

    def view(item: AddressItem) -> dict[str, Any]:
        return search_result(item, params.metaData, params.internalData and
                             ctx.principal is None)

    return page_response(page, params.page, shaped(page, view), total=addresses.count(params),
                         query=params.query or "")


@endpoint(bp, "/addresses/resolve/{address}", "GET", ResolveAddress, response=r.ResolvedAddress,
          summary="Find the user and address id an email address belongs to")
def resolve_address(params: ResolveAddress) -> dict[str, Any]:
    return owner(addresses.resolve(params.address))


@endpoint(bp, "/users/{user}/addresses", "GET", UserAddresses, response=r.UserAddressList,
          summary="List the addresses of a user")
def list_user_addresses(params: UserAddresses, ctx: RequestContext) -> dict[str, Any]:
    internal = params.internalData and ctx.principal is None
    return {"results": [details(item, params.metaData, internal)
                        for item in addresses.for_user(params.user)]}


def _operator_data(params: CreateAddress | UpdateAddress, ctx: RequestContext) -> None:
    if ctx.principal is not None and "internalData" in params.model_fields_set:
        raise MissingPrivileges("A user token may not change internalData")


@endpoint(bp, "/users/{user}/addresses", "POST", CreateAddress, response=r.CreatedId,
          summary="Add an address to a user")
def create_address(params: CreateAddress, ctx: RequestContext) -> dict[str, Any]:
    _operator_data(params, ctx)
    return {"id": addresses.create(params)}


@endpoint(bp, "/users/{user}/addresses/{address}", "GET", AddressRef, response=r.UserAddressDetails,
          summary="Get one address of a user")
def get_address(params: AddressRef, ctx: RequestContext) -> dict[str, Any]:
    return details(addresses.get(params.user, params.address), True, ctx.principal is None)


@endpoint(bp, "/users/{user}/addresses/{address}", "PUT", UpdateAddress, response=r.Done,
          summary="Make an address main, or change its name or tags")
def update_address(params: UpdateAddress, ctx: RequestContext) -> dict[str, Any]:
    _operator_data(params, ctx)
    addresses.update(params)
    return {}


@endpoint(bp, "/users/{user}/addresses/{address}", "DELETE", AddressRef, response=r.Done,
          summary="Delete an alias address (not the main one)")
def delete_address(params: AddressRef) -> dict[str, Any]:
    addresses.delete(params.user, params.address)
    return {}


# --------------------------------------------------------------------------- views


def search_result(item: AddressItem, meta_data: bool, internal_data: bool) -> dict[str, Any]:
    """The search form; metadata only when asked (and set), as WildDuck does."""
    result = {"id": item.id, "name": item.name, "address": item.address, "user": item.user,
              "tags": list(item.tags or [])}
    if meta_data and item.metaData:
        result["metaData"] = loaded(item.metaData)
    if internal_data and item.internalData:
        result["internalData"] = loaded(item.internalData)
    return result


def details(item: AddressItem, meta_data: bool, internal_data: bool) -> dict[str, Any]:
    """An address of a user; its metadata when asked for and set."""
    result = {"id": item.id, "name": item.name, "address": item.address,
              "main": bool(item.main), "tags": list(item.tags or []),
              "created": iso(item.created)}
    if meta_data and item.metaData:
        result["metaData"] = loaded(item.metaData)
    if internal_data and item.internalData:
        result["internalData"] = loaded(item.internalData)
    return result


def owner(found: addresses.Owner) -> dict[str, Any]:
    return {"id": found.id, "address": found.address, "user": found.user}
