"""The asps table: application-specific passwords, one partition per user.

Items carry an argon2id hash of the password and a short `selector` (see
services/asps.py) so a login reads the user's partition once and verifies only the
candidates whose selector matches. `expires` (epoch seconds) is the TTL attribute.
"""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from chalicelib.store.base import meta


class AspItem(Model):
    Meta = meta("asps")

    user = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    description = UnicodeAttribute()
    scopes = ListAttribute(of=UnicodeAttribute)
    password = UnicodeAttribute()
    selector = UnicodeAttribute()
    lastUse = MapAttribute(null=True)  # {time: ms, event: authlog entry id}
    created = NumberAttribute()
    expires = NumberAttribute(null=True)


def get(user: str, asp_id: str) -> AspItem | None:
    try:
        return AspItem.get(user, asp_id, consistent_read=True)
    except AspItem.DoesNotExist:
        return None


def of_user(user: str, selector: str | None = None) -> list[AspItem]:
    """Every ASP of a user in id (creation) order: one consistent Query (<= 50 items)."""
    condition = AspItem.selector == selector if selector is not None else None
    return list(AspItem.query(user, consistent_read=True, filter_condition=condition))


def record_use(user: str, asp_id: str, time_ms: int, event: str) -> None:
    """Remember the last successful login; an ASP deleted meanwhile is left deleted."""
    try:
        AspItem(user=user, id=asp_id).update(
            actions=[AspItem.lastUse.set({"time": time_ms, "event": event})],
            condition=AspItem.id.exists())
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
