"""Deletion to the archive, and back.

Deleting a message moves its item to the archived table in one transaction that also
updates the mailbox counters, releases its size from the user's `storageUsed` and
puts EXPUNGE (at a journal number claimed before, like uploads). The S3 folder stays: the archived item (id = msgid) references it until
retention ends (TTL), after which the sweeper removes it. Restoring charges the quota
again under the same condition as an upload and gives the message a new uid.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from pynamodb.exceptions import PutError

from chalicelib.config import settings
from chalicelib.cursors import decode_cursor
from chalicelib.errors import (DomainError, MessageNotFound, NoSuchMailbox, OverQuotaError,
                               UserNotFound)
from chalicelib.ids import new_id
from chalicelib.services import users
from chalicelib.services.messages import (FullView, flagged_visible, full_view, over_quota, owned,
                                          quota_condition, retention_expiry)
from chalicelib.store.batch import batch_get
from chalicelib.store import archived as archive_store
from chalicelib.store import journal, lookups
from chalicelib.store import mailboxes as mailboxes_store
from chalicelib.store import messages as store
from chalicelib.store.archived import ArchivedItem
from chalicelib.store.events import event
from chalicelib.store.lookups import LookupItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.messages import JUNK, SEEN, MessageItem
from chalicelib.store.paging import Page, query_page
from chalicelib.store.tasks import CLEAR_MAILBOX, RESTORE_ARCHIVED, TaskItem
from chalicelib.store.transact import Transaction, TransactionFailed, run
from chalicelib.store.users import UserItem


def delete(user_id: str, mailbox_id: str, uid: int, keep: bool = True) -> None:
    """Delete a message; `keep=False` skips the archive (its S3 folder, then referenced
    by nothing, is removed by the sweeper)."""
    item = owned(user_id, mailbox_id, uid)
    current = {"item": item}

    def build(tx: Transaction) -> None:
        message = current["item"]
        size = int(message.size)
        tx.delete(message, condition=MessageItem.rev == message.rev, label="message")
        if keep:
            tx.save(archive_store.archived_from(message, settings().archive_retention_days))
        tx.update(MailboxItem(user=user_id, id=mailbox_id), actions=[
            MailboxItem.total.add(-1), MailboxItem.unseen.add(0 if message.has(SEEN) else -1),
            MailboxItem.size.add(-size), MailboxItem.modifyIndex.add(1),
        ], condition=MailboxItem.id.exists(), label="mailbox")
        tx.update(UserItem(id=user_id), actions=[UserItem.storageUsed.add(-size)],
                  condition=UserItem.kind.exists(), label="user")
        seqs.put(tx, [("EXPUNGE", {"mailbox": mailbox_id, "uid": uid,
                                   "message": message.msgid, "thread": message.thread})])
        if keep:
            tx.save(event(user_id, message.msgid, "ARCHIVE", mailbox=mailbox_id, uid=uid))

    def reread(failure: TransactionFailed) -> None:
        current["item"] = owned(user_id, mailbox_id, uid)  # changed, or gone: 404

    with journal.reserved(user_id, 1) as seqs:
        if seqs is None:
            raise UserNotFound()
        run(build, errors={"mailbox": NoSuchMailbox, "user": UserNotFound}, on_retry=reread)


@dataclass
class Cleared:
    deleted: int = 0
    errors: int = 0
    done: bool = True


def clear(user_id: str, mailbox_id: str, skip_archive: bool, until: float,
          limit: int | None = None) -> Cleared:
    """Delete the mailbox's messages, newest uid first, each as `delete` does (drafts
    and, with `skip_archive`, every message without an archived copy, as WildDuck), until
    the mailbox is empty, `until` (epoch seconds) passes or `limit` messages are done
    (`done` False: call again)."""
    cleared = Cleared()
    for uid, draft in store.uids_newest_first(mailbox_id):
        if time.time() >= until or (limit is not None and cleared.deleted >= limit):
            cleared.done = False
            break
        try:
            delete(user_id, mailbox_id, uid, keep=not (skip_archive or draft))
            cleared.deleted += 1
        except MessageNotFound:
            continue  # moved or deleted meanwhile
        except (NoSuchMailbox, UserNotFound):
            raise  # nothing more to empty
        except DomainError:
            cleared.errors += 1
    return cleared


def queue_clear(user_id: str, mailbox_id: str, skip_archive: bool) -> tuple[str, bool]:
    """Queue the emptying of a mailbox for the task runner (one task per mailbox: a
    second request finds it `existing`). Returns (task id, existing)."""
    now = time.time()
    task = TaskItem(kind=CLEAR_MAILBOX, id=mailbox_id, user=user_id,
                    data={"skipArchive": skip_archive}, created=int(now * 1000))
    try:
        task.save(condition=TaskItem.id.does_not_exist())
    except PutError as error:
        if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        return mailbox_id, True
    return mailbox_id, False


def queue_restore(user_id: str, start_ms: int, end_ms: int) -> str:
    """Queue the restore of everything the account deleted within [start, end] (the
    archive's `archived` time); the scheduled task runner does it in bounded steps
    (services/maintenance.restore_archived). Returns the task id."""
    users.get(user_id)
    now = time.time()
    task_id = new_id(now)
    TaskItem(kind=RESTORE_ARCHIVED, id=task_id, user=user_id,
             data={"start": start_ms, "end": end_ms}, created=int(now * 1000)).save()
    return task_id


def _live(user_id: str, archived_id: str) -> ArchivedItem:
    """An archived message of a live account: both in one BatchGetItem (the archive
    partition outlives a deleted account until the purge)."""
    item, user = batch_get([(ArchivedItem, (user_id, archived_id)),
                                  (UserItem, (user_id,))])
    if not isinstance(user, UserItem) or user.deleted:
        raise UserNotFound()
    if not isinstance(item, ArchivedItem) or not item.is_live():
        raise MessageNotFound()
    return item


def listing(user_id: str, *, order: str = "desc", limit: int = 20,
            next_token: str | None = None,
            previous_token: str | None = None) -> tuple[int, Page[ArchivedItem]]:
    users.get(user_id)  # the partition outlives a deleted account until the purge
    scope = f"archived:{user_id}"
    cursor = None
    if next_token:
        cursor = decode_cursor(scope, next_token, "next")
    elif previous_token:
        cursor = decode_cursor(scope, previous_token, "previous")
    live = ArchivedItem.expires > int(time.time())
    page = query_page(ArchivedItem, user_id, scope=scope, key_names=["user", "id"],
                      limit=limit, cursor=cursor, forward=order == "asc",
                      filter_condition=live)
    total = len(page.items)
    if page.next_cursor or page.previous_cursor:
        total = ArchivedItem.count(user_id, filter_condition=live)
    return total, page


def read(user_id: str, archived_id: str) -> tuple[ArchivedItem, FullView]:
    """A live archived message with its bodies."""
    item = _live(user_id, archived_id)
    return item, full_view(item.as_message())


def restore(user_id: str, archived_id: str, mailbox_id: str | None = None) -> tuple[str, int]:
    """Back into `mailbox_id`, else the mailbox it was deleted from, else INBOX,
    without the expiry it may have had."""
    found = batch_get([
        (ArchivedItem, (user_id, archived_id)), (UserItem, (user_id,)),
        (LookupItem, (lookups.mailbox_key(user_id, "INBOX"),))])
    archived, user, inbox = found
    if not isinstance(user, UserItem) or user.deleted:
        raise UserNotFound()
    if not isinstance(archived, ArchivedItem) or not archived.is_live():
        raise MessageNotFound()
    candidates = [mailbox_id] if mailbox_id else [archived.mailbox]
    if not mailbox_id and isinstance(inbox, LookupItem) and inbox.target:
        candidates.append(inbox.target)
    boxes = batch_get([(MailboxItem, (user_id, mid)) for mid in candidates])
    mailbox = next((box for box in boxes if isinstance(box, MailboxItem)), None)
    if mailbox is None:
        raise NoSuchMailbox()
    item = archived.as_message()
    size = int(item.size)
    if over_quota(user, size):
        raise OverQuotaError()
    flags = [flag for flag in (item.flags or []) if flag != JUNK]
    if mailbox.specialUse == "\\Junk":
        flags.append(JUNK)
    item.flags = flags
    item.rev = 0
    item.register = None
    # As WildDuck does, a restored message keeps no expiry of its own (a date that
    # caused its deletion would delete it again at the next expiry run); it takes the
    # retention of the mailbox it is restored into, from now.
    store.set_expiry(item, retention_expiry(mailbox))
    uid = mailboxes_store.reserve_uids(user_id, mailbox.id, 1)
    if uid is None:
        raise NoSuchMailbox()
    store.place(item, mailbox.id, uid, flagged_visible(mailbox))
    current = {"user": user}

    def build(tx: Transaction) -> tuple[str, int]:
        account = current["user"]
        tx.delete(archived, condition=ArchivedItem.id.exists(), label="archived")
        tx.save(item, condition=MessageItem.uid.does_not_exist(), label="message")
        tx.update(mailbox, actions=[
            MailboxItem.total.add(1), MailboxItem.unseen.add(0 if SEEN in flags else 1),
            MailboxItem.size.add(size), MailboxItem.modifyIndex.add(1),
        ], condition=MailboxItem.id.exists(), label="mailbox")
        tx.update(account, actions=[UserItem.storageUsed.add(size)],
                  condition=quota_condition(account, size), label="user")
        seqs.put(tx, [("EXISTS", {"mailbox": mailbox.id, "uid": uid, "message": item.msgid,
                                  "idate": int(item.idate), "thread": item.thread})])
        tx.save(event(user_id, item.msgid, "RESTORE", mailbox=mailbox.id, uid=uid))
        return mailbox.id, uid

    def reread(failure: TransactionFailed) -> None:
        if "user" in failure.failed:
            fresh = users.get(user_id)
            if over_quota(fresh, size):
                raise OverQuotaError()
            current["user"] = fresh

    with journal.reserved(user_id, 1) as seqs:
        if seqs is None:
            raise UserNotFound()
        return run(build, errors={"archived": MessageNotFound, "mailbox": NoSuchMailbox},
                   on_retry=reread)
