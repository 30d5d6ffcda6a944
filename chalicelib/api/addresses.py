"""Routes of addresses: the admin search, resolution, and a user's aliases."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api.http import endpoint
from chalicelib.api.paging import page_response, shaped
from chalicelib.clock import iso
from chalicelib.services import addresses
from chalicelib.store.addresses import AddressItem

if TYPE_CHECKING:
    from chalicelib.schemas.addresses import (AddressRef, CreateAddress, ResolveAddress,
                                              SearchAddresses, UpdateAddress, UserAddresses)

bp = Blueprint(__name__)


@endpoint(bp, "/addresses", "GET", "addresses.SearchAddresses", response="AddressSearch",
          summary="Search all addresses, ordered by normalized address")
def search_addresses(params: SearchAddresses) -> dict[str, Any]:
    page = addresses.search(params)
    return page_response(page, params.page, shaped(page, search_result),
                         query=params.query or "")


@endpoint(bp, "/addresses/resolve/{address}", "GET", "addresses.ResolveAddress",
          response="ResolvedAddress",
          summary="Find the user and address id an email address belongs to")
def resolve_address(params: ResolveAddress) -> dict[str, Any]:
    return owner(addresses.resolve(params.address))


@endpoint(bp, "/users/{user}/addresses", "GET", "addresses.UserAddresses",
          response="UserAddressList",
          summary="List the addresses of a user")
def list_user_addresses(params: UserAddresses) -> dict[str, Any]:
    return {"results": [details(item) for item in addresses.for_user(params.user)]}


@endpoint(bp, "/users/{user}/addresses", "POST", "addresses.CreateAddress", response="CreatedId",
          summary="Add an address to a user")
def create_address(params: CreateAddress) -> dict[str, Any]:
    return {"id": addresses.create(params)}


@endpoint(bp, "/users/{user}/addresses/{address}", "GET", "addresses.AddressRef",
          response="UserAddressDetails",
          summary="Get one address of a user")
def get_address(params: AddressRef) -> dict[str, Any]:
    return details(addresses.get(params.user, params.address))


@endpoint(bp, "/users/{user}/addresses/{address}", "PUT", "addresses.UpdateAddress",
          response="Done",
          summary="Make an address main, or change its name or tags")
def update_address(params: UpdateAddress) -> dict[str, Any]:
    addresses.update(params)
    return {}


@endpoint(bp, "/users/{user}/addresses/{address}", "DELETE", "addresses.AddressRef",
          response="Done",
          summary="Delete an alias address (not the main one)")
def delete_address(params: AddressRef) -> dict[str, Any]:
    addresses.delete(params.user, params.address)
    return {}


# --------------------------------------------------------------------------- views


def search_result(item: AddressItem) -> dict[str, Any]:
    return {"id": item.id, "name": item.name, "address": item.address, "user": item.user,
            "tags": list(item.tags or [])}


def details(item: AddressItem) -> dict[str, Any]:
    return {"id": item.id, "name": item.name, "address": item.address,
            "main": bool(item.main), "tags": list(item.tags or []),
            "created": iso(item.created)}


def owner(found: addresses.Owner) -> dict[str, Any]:
    return {"id": found.id, "address": found.address, "user": found.user}
