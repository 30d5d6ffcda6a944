"""The authlog table: security events per user, newest first by id, expiring by TTL."""
from __future__ import annotations

from typing import Any

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
    aname = UnicodeAttribute(null=True)  # that application password's description
    target = UnicodeAttribute(null=True)  # `user forward added`: the new target
    ip = UnicodeAttribute(null=True)
    sess = UnicodeAttribute(null=True)
    created = NumberAttribute()
    expires = NumberAttribute()


def get(user: str, event: str) -> AuthlogItem | None:
    try:
        return AuthlogItem.get(user, event, consistent_read=True)
    except AuthlogItem.DoesNotExist:
        return None


def count(user: str, condition: Any) -> int:
    """Entries of `user` matching `condition` (a COUNT Query: no items returned)."""
    return AuthlogItem.count(user, filter_condition=condition, consistent_read=True)
