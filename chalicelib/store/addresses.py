"""The addresses table: a user's addresses, plus an index ordered by address."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.store.base import meta

KIND = "address"


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
    kind = UnicodeAttribute(default=KIND)
    address = UnicodeAttribute()
    addrview = UnicodeAttribute()
    main = BooleanAttribute(default=False)
    created = NumberAttribute()

    by_address = ByAddressIndex()
