"""The lookups table: one item per unique name, written with the entity it names.

Keys: `username#<unameview>`, `address#<normalized address>`, `mailbox#<user>#<path>`.
A strongly consistent GetItem on a key resolves the name; `attribute_not_exists` on the
put makes the name unique.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from chalicelib.store.base import meta


class LookupItem(Model):
    Meta = meta("lookups")

    key = UnicodeAttribute(hash_key=True)
    user = UnicodeAttribute()
    target = UnicodeAttribute(null=True)  # the address or mailbox id the name points at


def username_key(unameview: str) -> str:
    return f"username#{unameview}"


def address_key(addrview: str) -> str:
    return f"address#{addrview}"


def mailbox_key(user: str, path: str) -> str:
    return f"mailbox#{user}#{path}"


def resolve(key: str) -> LookupItem | None:
    try:
        return LookupItem.get(key, consistent_read=True)
    except LookupItem.DoesNotExist:
        return None
