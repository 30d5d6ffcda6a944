"""The connections table: open websocket connections and what each subscribed to.

An item per connection id (API Gateway's), written on `$connect` with the principal the
token named (a user id, or `*` for the operator's access token) and an expiry: API
Gateway closes a websocket after 2 hours at most, and `$disconnect` is best-effort, so
the TTL removes what nobody deleted, and readers treat an expired item as absent. A
subscription sets `user` (which feeds the `byUser` index the stream handler fans out
through) and `since`, the last journal number the subscription's own replay delivered.
"""
from __future__ import annotations

import time

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.store.base import meta
from chalicelib.store.transact import updated

OPERATOR = "*"  # principal of a connection opened with the deployment's access token
TTL_SECONDS = 2 * 3600 + 300  # API Gateway's longest connection, and a margin


class ByUserIndex(GlobalSecondaryIndex["ConnectionItem"]):
    class Meta:
        index_name = "byUser"
        projection = AllProjection()

    user = UnicodeAttribute(hash_key=True)


class ConnectionItem(Model):
    Meta = meta("connections")

    id = UnicodeAttribute(hash_key=True)
    principal = UnicodeAttribute()
    user = UnicodeAttribute(null=True)
    since = NumberAttribute(null=True)
    created = NumberAttribute()
    expires = NumberAttribute()

    byUser = ByUserIndex()

    def live(self, now: float | None = None) -> bool:
        return int(self.expires) > (time.time() if now is None else now)


def opened(connection_id: str, principal: str) -> ConnectionItem:
    """Record a new connection (one PutItem)."""
    now = time.time()
    item = ConnectionItem(id=connection_id, principal=principal, created=int(now * 1000),
                          expires=int(now) + TTL_SECONDS)
    item.save()
    return item


def get(connection_id: str) -> ConnectionItem | None:
    """The live connection, or None (one consistent GetItem)."""
    try:
        item = ConnectionItem.get(connection_id, consistent_read=True)
    except ConnectionItem.DoesNotExist:
        return None
    return item if item.live() else None


def subscribe(item: ConnectionItem, user_id: str, since: int) -> bool:
    """Point the connection at `user_id` from journal number `since` on (one UpdateItem,
    on condition the connection still exists); False when it is gone."""
    return updated(item, [ConnectionItem.user.set(user_id), ConnectionItem.since.set(since)],
                   ConnectionItem.id.exists())


def unsubscribe(connection_id: str) -> bool:
    """Stop the connection's entries (one UpdateItem); False when it is gone."""
    return updated(ConnectionItem(id=connection_id),
                   [ConnectionItem.user.remove(), ConnectionItem.since.remove()],
                   ConnectionItem.id.exists())


def of_user(user_id: str) -> list[ConnectionItem]:
    """The live connections subscribed to `user_id` (one Query of `byUser`)."""
    now = time.time()
    return [item for item in ConnectionItem.byUser.query(user_id) if item.live(now)]


def closed(connection_id: str) -> None:
    """Forget a connection (one DeleteItem); nothing to do when it is already gone."""
    try:
        ConnectionItem(id=connection_id).delete()
    except DeleteError:
        pass
