"""The addresses table: a user's addresses, plus an index ordered by address.

`kind` feeds the `byAddress` index (the admin listing in address order); an account
deletion removes it from the account's addresses so they leave that listing at once,
before the purge removes the items.
"""
from __future__ import annotations

from pynamodb.attributes import (BooleanAttribute, ListAttribute, MapAttribute,
                                 NumberAttribute, UnicodeAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.store.base import meta

KIND = "address"
# The partition of forwarded addresses: they belong to no account and pass mail on to
# their targets (services/forwarded.py). Never a user id (those are 24 hex characters).
FORWARDED = "*forwarded"
# The DynamoDB key of a byAddress page edge: the table key plus the index key.
INDEX_KEY_NAMES = ["user", "id", "kind", "addrview"]


class ByAddressIndex(GlobalSecondaryIndex["AddressItem"]):
    class Meta:
        index_name = "byAddress"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    addrview = UnicodeAttribute(range_key=True)


class AddressItem(Model):
    Meta = meta("addresses")

    user = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    # For new items only: a deleted account's address read back must show no `kind`
    # (a plain default would fill it in on every read).
    kind = UnicodeAttribute(null=True, default_for_new=KIND)
    address = UnicodeAttribute()
    addrview = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    tagsview = ListAttribute(of=UnicodeAttribute, default=list)
    main = BooleanAttribute(default=False)
    # Forwarded addresses only: where mail goes, the daily forward limit (0: default),
    # and whether forwarding is suspended.
    targets = ListAttribute(of=UnicodeAttribute, null=True)
    forwards = NumberAttribute(null=True)
    forwardedDisabled = BooleanAttribute(null=True)
    # Its daily forward counter (services/outbound.py): forwards in the window, its end.
    forwardsSent = NumberAttribute(null=True)
    forwardsReset = NumberAttribute(null=True)
    # Its autoreply (services/autoreply.Autoreply's fields), absent: off.
    autoreply = MapAttribute(null=True)
    metaData = UnicodeAttribute(null=True)  # compact JSON text of an object
    internalData = UnicodeAttribute(null=True)  # the same, shown to the operator only
    created = NumberAttribute()

    by_address = ByAddressIndex()


def get(user: str, address_id: str) -> AddressItem | None:
    try:
        return AddressItem.get(user, address_id, consistent_read=True)
    except AddressItem.DoesNotExist:
        return None


def list_for_user(user: str) -> list[AddressItem]:
    """All addresses of a user: one Query (a user has few)."""
    return list(AddressItem.query(user, consistent_read=True))
