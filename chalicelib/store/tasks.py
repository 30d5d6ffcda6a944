"""The tasks table: deferred work that must survive until a scheduled job runs it."""
from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.store.base import meta

PURGE_USER = "purge-user"  # data: {username, mailboxes: snapshot for a restore}
PURGE_MAILBOX = "purge-mailbox"  # data: {mailbox, path}; its messages are removed
QUOTA_RESET = "quota-reset"  # data: {after: the last account recounted}; every account
# data: {start, end} (epoch ms of deletion), `after` (the last archived id done)
RESTORE_ARCHIVED = "restore-archived"
# id: the mailbox id; data: {skipArchive}; its messages are deleted (to the archive)
CLEAR_MAILBOX = "clear-mailbox"
SEARCH_BACKFILL = "search-backfill"  # id: a user id or "*"; data: where it stands


class TaskItem(Model):
    Meta = meta("tasks")

    kind = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    user = UnicodeAttribute()
    data = MapAttribute(default=dict)
    created = NumberAttribute()
    notBefore = NumberAttribute(default=0)
