"""Scheduled clean-up: the messages of deleted mailboxes, and unreferenced S3 folders.

Deleting a mailbox (services/mailboxes) removes the mailbox item, releases its size from
the quota and queues a `purge-mailbox` task in one transaction; `purge_mailboxes` then
deletes the mailbox's message items and their S3 objects, in bounded steps, and drops
the task once nothing is left. It is idempotent: a run cut short is simply continued.

`sweep` removes S3 folders that nothing references any more: uploads whose transaction
failed without cleaning up, messages whose archive retention ended (TTL removed the
archived item), leftovers of purges. A folder is referenced while a message item points
at it (exact lookup in the `byUser` index) or an archived item has its msgid. Index
reads are eventually consistent and a message may be between the table and the archive
for an instant, so deletion takes two looks: a folder found unreferenced becomes a
candidate, and is deleted only if it is still unreferenced at a later run.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from itertools import islice

from pynamodb.models import Model

from chalicelib import logs
from chalicelib.errors import MessageNotFound, NoSuchMailbox, OverQuotaError, UserNotFound
from chalicelib.services import archive, users
from chalicelib.store.base import as_dict
from chalicelib.store import archived, blobs, lookups
from chalicelib.store import messages as store
from chalicelib.store.addresses import AddressItem
from chalicelib.store.addressregister import RegisterItem
from chalicelib.store.archived import ArchivedItem
from chalicelib.store.asps import AspItem
from chalicelib.store.authlog import AuthlogItem
from chalicelib.store.filters import FilterItem
from chalicelib.store.journal import JournalItem
from chalicelib.store.lookups import LookupItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.messages import MessageItem
from chalicelib.store.tasks import (CLEAR_MAILBOX, PURGE_MAILBOX, PURGE_USER, RESTORE_ARCHIVED,
                                    TaskItem)
from chalicelib.store.transact import API_BUDGET_S, MAX_ITEMS, budget, chunked, run
from chalicelib.store.users import UserItem

SWEEP_CANDIDATE = "sweep-candidate"
GRACE_SECONDS = 24 * 3600  # folders younger than this may belong to an upload in flight
CONFIRM_SECONDS = 3600  # between the two looks at an unreferenced folder


@dataclass
class PurgeReport:
    tasks_done: int = 0
    messages_removed: int = 0


def purge_mailboxes(max_messages: int = 5000, now: float | None = None) -> PurgeReport:
    now = time.time() if now is None else now
    report = PurgeReport()
    for task in TaskItem.query(PURGE_MAILBOX, consistent_read=True):
        if task.notBefore and task.notBefore > now:
            continue
        data = as_dict(task.data)
        mailbox_id = str(data.get("mailbox") or "")
        if not mailbox_id:
            task.delete()
            continue
        try:
            MailboxItem.get(task.user, mailbox_id, consistent_read=True)
            logs.warning("purge-mailbox task for a mailbox that exists", mailbox=mailbox_id)
            continue  # never purge a live mailbox
        except MailboxItem.DoesNotExist:
            pass
        removed, finished = _purge_one(mailbox_id, max_messages - report.messages_removed)
        report.messages_removed += removed
        if finished:
            task.delete()
            report.tasks_done += 1
        if report.messages_removed >= max_messages:
            break
    return report


def expire_messages(limit: int = 500, now: float | None = None) -> int:
    """Delete the messages whose `expires` date has passed: a date set through the API,
    or the retention of the mailbox they arrived in. Each goes to the archive like any
    delete (counters, quota and journal stay exact, and the message stays restorable for
    the archive retention). Returns how many were deleted.

    Bounded by `limit` index entries a run, oldest due first; a run cut short is simply
    continued by the next (what it deleted left the index). Entries of an account
    deleted in the meantime leave the index too, so that until the purge removes them
    they cannot fill every run's first `limit` entries and stall the job."""
    now_ms = int((time.time() if now is None else now) * 1000)
    deleted = 0
    for item in store.due(now_ms, limit):
        try:
            # It claims a journal number: a request's budget, which the journal
            # readers' gap rule counts on (services/realtime/journal_reader.py).
            with budget(API_BUDGET_S):
                archive.delete(item.user, item.mailbox, int(item.uid))
            deleted += 1
        except UserNotFound:
            store.forget_expiry(item)
        except (MessageNotFound, NoSuchMailbox):
            continue  # moved, deleted or purged since the index was read
    return deleted


@dataclass
class RestoreReport:
    tasks_done: int = 0
    restored: int = 0
    failed: int = 0  # over quota, or restored elsewhere meanwhile: left in the archive


def restore_archived(max_messages: int = 1000) -> RestoreReport:
    """Run the queued `POST /archived/restore` tasks: each archived message deleted in
    the task's time range goes back to its mailbox (INBOX when that is gone) through
    `archive.restore`, so counters, quota and journal stay exact.

    Bounded by `max_messages` a run; the task keeps the last archived id it reached, so
    a run cut short (or out of budget) is continued by the next one from there. A
    message that cannot be restored (over quota) stays in the archive and is counted."""
    report = RestoreReport()
    for task in TaskItem.query(RESTORE_ARCHIVED, consistent_read=True):
        data = as_dict(task.data)
        after = str(data["after"]) if data.get("after") else None
        finished = True
        try:
            users.get(task.user)
            window = archived.archived_between(task.user, int(data["start"]), int(data["end"]),
                                               after)
            for item in window:
                if report.restored + report.failed >= max_messages:
                    finished = False
                    break
                try:
                    archive.restore(task.user, item.id)
                    report.restored += 1
                except (OverQuotaError, MessageNotFound, NoSuchMailbox):
                    report.failed += 1
                after = item.id
        except UserNotFound:
            pass  # the account is gone: nothing to restore
        if finished:
            task.delete()
            report.tasks_done += 1
        else:
            task.update(actions=[TaskItem.data.set({**data, "after": after})])
            break
    return report


def clear_mailboxes(max_messages: int = 1000) -> int:
    """Run the queued mailbox emptyings (`DELETE .../messages?async=true`, or the rest of
    one too large for its request): at most `max_messages` deleted a run, each as a
    single delete (counters, journal and archive exact); the task goes when the mailbox
    is empty, or gone. Returns how many messages were deleted."""
    deleted = 0
    for task in TaskItem.query(CLEAR_MAILBOX, consistent_read=True):
        data = as_dict(task.data)
        try:
            cleared = archive.clear(task.user, task.id, bool(data.get("skipArchive")),
                                    until=float("inf"), limit=max_messages - deleted)
        except (UserNotFound, NoSuchMailbox):
            cleared = archive.Cleared()  # nothing left to empty
        deleted += cleared.deleted
        if not cleared.done:
            break
        task.delete()
    return deleted


# Per-user partitions a deleted account leaves behind, emptied before its user item.
_USER_PARTITIONS: tuple[type[Model], ...] = (AddressItem, AspItem, FilterItem, ArchivedItem,
                                             AuthlogItem, JournalItem, RegisterItem)


def purge_users(max_messages: int = 5000, now: float | None = None) -> PurgeReport:
    """Remove what deleted accounts left behind once their grace period is over.

    Deletion made the account unusable, removed its mailboxes and freed its names at
    once, and queued a `purge-user` task in the same transaction. During the grace
    period a run only removes mailboxes a deletion cut short left behind; after it, it
    drops the data: messages (items and S3 objects, found through `byUser`), the id
    lookups of its addresses (`addressid#`, kept through the grace period so a restore
    needs none), the per-user partitions (address register included), and finally the
    user item and the task. A run cut short is
    continued by the next one. Archived S3 objects are left to the sweeper, which
    removes folders nothing references.
    """
    now = time.time() if now is None else now
    report = PurgeReport()
    for task in TaskItem.query(PURGE_USER, consistent_read=True):
        try:
            user = UserItem.get(task.user, consistent_read=True)
        except UserItem.DoesNotExist:
            user = None
        if user is not None and not user.deleted:
            logs.warning("purge-user task for a live account", user=task.user)
            continue  # never purge a live account
        if task.notBefore and task.notBefore > now:
            _retire_mailboxes(task.user)  # finish a deletion that was cut short
            continue
        budget = max_messages - report.messages_removed
        removed, finished = _purge_account(task.user, budget)
        report.messages_removed += removed
        if finished:
            if user is not None:
                user.delete()
            task.delete()
            report.tasks_done += 1
        if report.messages_removed >= max_messages:
            break
    return report


def _retire_mailboxes(user_id: str) -> None:
    """Mailbox items (and lookups) a deleted account still has: reads of mail take a
    missing mailbox as the proof that the account is gone, so none may be left."""
    boxes = list(MailboxItem.query(user_id, consistent_read=True))
    for group in chunked(boxes, MAX_ITEMS // 2):
        run(partial(users.retire_mailboxes, user_id=user_id, boxes=group))


def _purge_account(user_id: str, budget: int) -> tuple[int, bool]:
    """Messages through the `byUser` index (their mailboxes are gone since the deletion;
    the index is long consistent two days later), then what else the account left."""
    removed = 0
    messages = store.of_user(user_id)
    while True:
        items = list(islice(messages, min(500, budget - removed)))
        if not items:
            break
        _delete_messages(items)
        removed += len(items)
        if removed >= budget:
            return removed, False
    _retire_mailboxes(user_id)
    # Id lookups before the address items: they are found through those items, so a
    # run cut short in between still finds them next time.
    with LookupItem.batch_write() as batch:
        for address in AddressItem.query(user_id, attributes_to_get=["user", "id"]):
            batch.delete(LookupItem(key=lookups.address_id_key(address.id)))
    for model in _USER_PARTITIONS:
        with model.batch_write() as batch:
            for item in model.query(user_id):
                batch.delete(item)
    return removed, True


def _purge_one(mailbox_id: str, budget: int) -> tuple[int, bool]:
    removed = 0
    attributes = ["mailbox", "uid", "user", "idate", "msgid"]
    while removed < budget:
        items = list(store.all_in(mailbox_id, attributes=attributes, limit=min(500, budget - removed)))
        if not items:
            return removed, True
        _delete_messages(items)
        removed += len(items)
    return removed, False


def _delete_messages(items: list[MessageItem]) -> None:
    with MessageItem.batch_write() as batch:
        for item in items:
            batch.delete(item)
    blobs.delete([key for item in items for key in (
        blobs.raw_key(item.user, int(item.idate), item.msgid),
        blobs.bodies_key(item.user, int(item.idate), item.msgid))])


@dataclass
class SweepReport:
    folders_seen: int = 0
    candidates: int = 0
    deleted: int = 0
    uploads_deleted: int = 0


def _referenced(user: str, folder: str, msgid: str) -> bool:
    return archived.get(user, msgid) is not None or store.find_folder(user, folder)


def sweep(now: float | None = None) -> SweepReport:
    now = time.time() if now is None else now
    report = SweepReport()
    candidates = {task.id: task for task in TaskItem.query(SWEEP_CANDIDATE, consistent_read=True)}
    folders: dict[str, list[blobs.StoredObject]] = {}
    for obj in blobs.list_prefix("msg/"):
        parsed = blobs.parse_folder(obj.key)
        if parsed is None:
            continue
        folders.setdefault(f"msg/{parsed[0]}/{parsed[1]}/", []).append(obj)
    for prefix, objects in folders.items():
        report.folders_seen += 1
        newest = max(obj.modified for obj in objects)
        if (now - newest.timestamp()) < GRACE_SECONDS:
            continue
        user, folder, msgid = blobs.parse_folder(objects[0].key)  # type: ignore[misc]
        candidate = candidates.pop(prefix, None)
        if _referenced(user, folder, msgid):
            if candidate is not None:
                candidate.delete()
            continue
        if candidate is None:
            TaskItem(kind=SWEEP_CANDIDATE, id=prefix, user=user, data={},
                     created=int(now * 1000), notBefore=int(now) + CONFIRM_SECONDS).save()
            report.candidates += 1
        elif candidate.notBefore <= now:
            blobs.delete([obj.key for obj in objects])
            candidate.delete()
            report.deleted += 1
    for stale in candidates.values():  # folders that disappeared in the meantime
        stale.delete()
    cutoff = datetime.fromtimestamp(now - GRACE_SECONDS, tz=timezone.utc)
    old_uploads = [obj.key for obj in blobs.list_prefix("upload/") if obj.modified < cutoff]
    blobs.delete(old_uploads)
    report.uploads_deleted = len(old_uploads)
    return report
