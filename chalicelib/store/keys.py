"""The keys table: small expiring records (rate-limit windows, replay guards, tokens)."""
from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.store.base import meta


class KeyItem(Model):
    Meta = meta("keys")

    key = UnicodeAttribute(hash_key=True)
    user = UnicodeAttribute(null=True)
    count = NumberAttribute(default=0)
    data = MapAttribute(null=True)
    expires = NumberAttribute()
