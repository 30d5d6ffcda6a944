"""The authlog table: security events per user, newest first by id, expiring by TTL."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.store.base import meta


class AuthlogItem(Model):
    Meta = meta("authlog")

    user = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    action = UnicodeAttribute()
    result = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)
    protocol = UnicodeAttribute(null=True)
    scope = UnicodeAttribute(null=True)
    asp = UnicodeAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    sess = UnicodeAttribute(null=True)
    created = NumberAttribute()
    expires = NumberAttribute()
