"""Forwarded addresses (`/addresses/forwarded`): addresses of no account that pass mail
on to their targets (email addresses, smtp relays, http endpoints).

One is an address item in the `FORWARDED` partition of the addresses table plus its
`address#` and `addressid#` lookups (user `FORWARDED`), written together like an account's address, so
one address is either an account's or forwarded, never both. It shows in the admin
address listing and counts in its total. Delivery (other issues) reads `targets`,
`forwards` and `forwardedDisabled`; this module keeps them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib import addressing
from chalicelib.clock import now_ms
from chalicelib.errors import AddressExistsError, AddressNotFound, InputValidationError
from chalicelib.ids import new_id
from chalicelib.services import autoreply
from chalicelib.services.addresses import check_wildcard, tag_fields
from chalicelib.store import addresses as address_store
from chalicelib.store import counters, lookups
from chalicelib.store.addresses import FORWARDED, AddressItem
from chalicelib.store.base import as_dict, set_or_remove
from chalicelib.store.transact import Transaction, run

if TYPE_CHECKING:
    from chalicelib.schemas.forwarded import CreateForwarded, UpdateForwarded


def _check_address(address: str, allow_wildcard: bool) -> None:
    if "+" in address.rpartition("@")[0]:
        raise InputValidationError({"address": "Address can not contain +"})
    check_wildcard(address, allow_wildcard)


def _check_targets(targets: list[str], addrview: str) -> None:
    for target in targets:
        if addressing.target_type(target) == "mail" and \
                addressing.unameview(addressing.normalize_address(target)) == \
                addressing.unameview(addrview):
            raise InputValidationError({"targets": f'Can not forward to self "{target}"'})


def create(params: CreateForwarded) -> str:
    _check_address(params.address, params.allowWildcard)
    addrview = addressing.address_view(params.address)
    targets = params.targets or []
    _check_targets(targets, addrview)
    tags, tagsview = tag_fields(params.tags)
    address_id = new_id()

    def build(tx: Transaction) -> str:
        lookups.add_address(tx, addrview, FORWARDED, address_id, params.address)
        tx.save(AddressItem(user=FORWARDED, id=address_id, address=params.address,
                            addrview=addrview, name=params.name, targets=targets,
                            forwards=params.forwards or None, forwardedDisabled=False,
                            metaData=params.metaData, internalData=params.internalData,
                            created=now_ms(), tags=tags, tagsview=tagsview,
                            autoreply=_autoreply(params, {})),
                condition=AddressItem.id.does_not_exist())
        counters.add(tx, counters.ADDRESSES, 1)
        return address_id

    return run(build, errors={"address": AddressExistsError})


def _autoreply(params: CreateForwarded | UpdateForwarded,
               current: dict[str, Any]) -> dict[str, Any]:
    """The stored autoreply after `params` (WildDuck: off unless an object is given;
    its `status` defaults to on)."""
    given = params.autoreply
    if given is None:
        return {**current, "status": bool(current.get("status"))}
    changed = autoreply.changes(given, given.model_fields_set | {"status"})
    return {**current, **changed, "created": now_ms()}


def get(address_id: str) -> AddressItem:
    item = address_store.get(FORWARDED, address_id)
    if item is None:
        raise AddressNotFound("Invalid or unknown address")
    return item


_CLEARABLE = ("name", "metaData", "internalData")


def update(params: UpdateForwarded) -> None:
    given = params.model_fields_set

    def build(tx: Transaction) -> None:
        item = get(params.id)
        actions = set_or_remove(AddressItem, _CLEARABLE, params, given)
        if "tags" in given:
            tags, tagsview = tag_fields(params.tags)
            actions += [AddressItem.tags.set(tags), AddressItem.tagsview.set(tagsview)]
        if "forwards" in given:
            actions.append(AddressItem.forwards.set(params.forwards or 0))
        condition = AddressItem.addrview == item.addrview
        if "autoreply" in given and params.autoreply is not None:
            current = as_dict(item.autoreply)
            actions.append(AddressItem.autoreply.set(_autoreply(params, current)))
            # merged from this read: a concurrent partial update must not be lost
            stamp = AddressItem.autoreply["created"]
            condition &= (stamp == current["created"]) if current.get("created") else \
                stamp.does_not_exist()
        if "forwardedDisabled" in given:
            actions.append(AddressItem.forwardedDisabled.set(bool(params.forwardedDisabled)))
        addrview = item.addrview
        if params.address is not None and addressing.address_view(params.address) != addrview:
            _check_address(params.address, allow_wildcard="*" in item.address)
            addrview = addressing.address_view(params.address)
            lookups.move_address(tx, item.addrview, addrview, FORWARDED, item.id,
                                 params.address)
            actions += [AddressItem.address.set(params.address),
                        AddressItem.addrview.set(addrview)]
        elif params.address is not None:
            actions.append(AddressItem.address.set(params.address))  # another spelling
        if "targets" in given:
            targets = params.targets or []
            _check_targets(targets, addrview)
            actions.append(AddressItem.targets.set(targets))
        if actions:
            tx.update(item, actions=actions, condition=condition, label="item")

    run(build, errors={"address": AddressExistsError})


def delete(address_id: str) -> None:
    def build(tx: Transaction) -> None:
        item = get(address_id)
        tx.delete(item, condition=AddressItem.addrview == item.addrview, label="item")
        lookups.remove_address(tx, item.addrview, item.id)
        counters.add(tx, counters.ADDRESSES, -1)

    run(build)
