"""Mailboxes: a user's folders, unique by path, with counters kept on the item.

A mailbox is its item plus the lookup `mailbox#<user>#<path>` that makes its path unique
and resolvable. Every change of the set of mailboxes (create, rename, delete) goes into
the user's journal in the same transaction, and creation and deletion keep the user's
`mailboxCount` so the per-user limit holds exactly under concurrency.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Iterator

from pynamodb.exceptions import DeleteError
from pynamodb.expressions.condition import Condition

from chalicelib import mailbox_paths
from chalicelib.clock import now_ms
from chalicelib.errors import (Conflict, DisallowedMailboxMethod, InputValidationError,
                               MailboxExistsError, NoSuchMailbox, UserNotFound)
from chalicelib.ids import new_id
from chalicelib.mailbox_paths import INBOX, MAX_MAILBOXES
from chalicelib.services import users
from chalicelib.store import filters as filter_store
from chalicelib.store import journal, lookups
from chalicelib.store import mailboxes as mailbox_store
from chalicelib.store.filters import FilterItem
from chalicelib.store.lookups import LookupItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.tasks import PURGE_MAILBOX, TaskItem
from chalicelib.store.transact import Transaction, TransactionFailed, deadline, pause, run
from chalicelib.store.users import UserItem

if TYPE_CHECKING:
    from chalicelib.schemas.mailboxes import CreateMailbox, ListMailboxes, UpdateMailbox

MAX_TX_OPS = 100  # DynamoDB's limit on one TransactWriteItems
# A renamed mailbox costs four operations (item update, old lookup delete, new lookup
# put, journal entry); each rename transaction also bumps the user's journal sequence.
MOVES_PER_TX = (MAX_TX_OPS - 1) // 4
# DynamoDB also caps a transaction at 4 MB; a moved path is written twice (item and
# journal entry) and may be ~260 KB, so large paths also split a rename.
TX_BYTES_BUDGET = 3_000_000
MOVE_OVERHEAD_BYTES = 1024
# A deletion's fixed operations: mailbox, lookup, purge task, journal entry, user.
FILTERS_PER_DELETE_TX = MAX_TX_OPS - 5

# The reference server's error texts: clients show them to people as they are.
CREATE_EXISTS = "Mailbox creation failed with code MailboxAlreadyExists"
CREATE_LIMIT = ("Mailbox creation failed with code ReachedMailboxCountLimit. "
                "Max mailboxes count reached.")
RENAME_EXISTS = "Mailbox rename failed with code MailboxAlreadyExists"
UPDATE_MISSING = "Mailbox update failed with code NoSuchMailbox"
UPDATE_DISALLOWED = "Mailbox update failed with code DisallowedMailboxMethod"
DELETE_MISSING = "Mailbox deletion failed with code NoSuchMailbox"
DELETE_DISALLOWED = "Mailbox deletion failed with code DisallowedMailboxMethod"


def _error(kind: type[Exception], message: str) -> Callable[[], Exception]:
    """A constructor of `kind` with a fixed message, for transact.run's error map."""
    return lambda: kind(message)


def get(user_id: str, mailbox_id: str) -> MailboxItem:
    """A mailbox of a live account: 1 GetItem, since deleting an account removes its
    mailboxes (the account is read only to tell which of the two is missing)."""
    box = mailbox_store.get(user_id, mailbox_id)
    if box is None:
        users.get(user_id)
        raise NoSuchMailbox()
    return box


def listing(params: ListMailboxes) -> list[MailboxItem]:
    """The account's mailboxes in folder-list order: 1 Query, whatever the number of
    mailboxes or messages (counters are on the items). A live account always has an
    INBOX (deleting the account removes it first, and the others with it), so no INBOX
    means no account."""
    every = mailbox_store.list_for_user(params.user)
    if not any(box.path == "INBOX" for box in every):  # deletion removes every mailbox
        raise UserNotFound()
    # `specialUse` keeps INBOX with the special-use folders, as the reference does.
    boxes = [box for box in every
             if (params.showHidden or not box.hidden)
             and (not params.specialUse or box.specialUse or box.path == INBOX)]
    return sorted(boxes, key=lambda box: mailbox_paths.listing_order(box.path,
                                                                     bool(box.subscribed)))


def resolve(user_id: str, path: str) -> MailboxItem:
    """The mailbox at a (normalized) path: its lookup item, then the mailbox."""
    users.get(user_id)
    found = lookups.resolve(lookups.mailbox_key(user_id, path))
    box = mailbox_store.get(user_id, found.target) if found and found.target else None
    if box is None:
        raise NoSuchMailbox()
    return box


def _live(condition: Condition | None = None) -> Condition:
    alive = UserItem.kind.exists()
    return alive if condition is None else alive & condition


def _count_change(user: UserItem, delta: int) -> tuple[list[Any], Condition | None]:
    """Actions and guard that move the user's mailbox count by `delta`."""
    if delta > 0:
        if int(user.mailboxCount or 0) + delta > MAX_MAILBOXES:
            raise DisallowedMailboxMethod(CREATE_LIMIT)
        return [UserItem.mailboxCount.add(delta)], UserItem.mailboxCount <= MAX_MAILBOXES - delta
    return [UserItem.mailboxCount.add(delta)], None


def _lost_race(failure: TransactionFailed, labels: set[str]) -> bool:
    return failure.conflict or bool(failure.failed & labels)


def create(params: CreateMailbox) -> str:
    """Create a mailbox at a new path (its parents need not exist)."""
    def build(tx: Transaction) -> str:
        user = users.get(params.user)
        count_actions, count_guard = _count_change(user, +1)
        mailbox_id = new_id()
        now = now_ms()
        retention = params.retention if params.retention is not None else (user.retention or 0)
        tx.save(MailboxItem(user=user.id, id=mailbox_id, path=params.path, specialUse=None,
                            subscribed=True, hidden=params.hidden, retention=retention,
                            encryptMessages=params.encryptMessages,
                            uidValidity=now // 1000, uidNext=1, modifyIndex=0, total=0,
                            unseen=0, size=0, created=now),
                condition=MailboxItem.id.does_not_exist())
        tx.save(LookupItem(key=lookups.mailbox_key(user.id, params.path), user=user.id,
                           target=mailbox_id),
                condition=LookupItem.key.does_not_exist(), label="path")
        journal.append(tx, user, [("CREATE", {"mailbox": mailbox_id, "path": params.path})],
                       actions=count_actions, condition=_live(count_guard))
        return mailbox_id

    return run(build, errors={"path": _error(MailboxExistsError, CREATE_EXISTS)})


def _setting_actions(params: UpdateMailbox) -> list[Any]:
    actions: list[Any] = []
    if params.retention is not None:
        actions.append(MailboxItem.retention.set(params.retention))
    if params.subscribed is not None:
        actions.append(MailboxItem.subscribed.set(params.subscribed))
    if params.hidden is not None:
        actions.append(MailboxItem.hidden.set(params.hidden))
    if params.encryptMessages is not None:
        actions.append(MailboxItem.encryptMessages.set(params.encryptMessages))
    return actions


def update(params: UpdateMailbox) -> None:
    """Rename (with the mailbox's children) and/or change retention, subscription and
    visibility. Renaming to the current path is not a rename, so it is allowed on
    INBOX too. A request that names nothing to change is refused, as the reference
    does."""
    if params.changes_nothing():
        raise InputValidationError({"request": "Nothing was changed"}, "Nothing was changed")
    settings = _setting_actions(params)
    if params.path is not None and _rename(params.user, params.mailbox, params.path, settings):
        return
    box = mailbox_store.get(params.user, params.mailbox)
    if box is None:
        users.get(params.user)
        raise NoSuchMailbox(UPDATE_MISSING)
    if not settings:
        return
    run(lambda tx: tx.update(box, actions=settings, condition=MailboxItem.id.exists(),
                             label="mailbox"),
        errors={"mailbox": _error(NoSuchMailbox, UPDATE_MISSING)})


def _chunks(moves: list[tuple[MailboxItem, str]]) -> Iterator[list[tuple[MailboxItem, str]]]:
    """Consecutive groups of moves that fit one transaction (operations and bytes)."""
    chunk: list[tuple[MailboxItem, str]] = []
    size = 0
    for box, new_path in moves:
        cost = 2 * len(new_path.encode("utf-8")) + len(box.path.encode("utf-8")) \
            + MOVE_OVERHEAD_BYTES
        if chunk and (len(chunk) == MOVES_PER_TX or size + cost > TX_BYTES_BUDGET):
            yield chunk
            chunk, size = [], 0
        chunk.append((box, new_path))
        size += cost
    if chunk:
        yield chunk


def _rename_plan(boxes: list[MailboxItem], target: MailboxItem,
                 new_path: str) -> list[tuple[MailboxItem, str]]:
    """(mailbox, new path) for the target and every mailbox below it, target last.

    Moving the target last makes an interrupted rename resumable: until the target has
    moved, repeating the same request moves whatever children are still left below it.
    """
    old_root = target.path
    children = sorted((box for box in boxes
                       if box.id != target.id and mailbox_paths.is_within(box.path, old_root)),
                      key=lambda box: box.path)
    return [(box, mailbox_paths.moved(box.path, old_root, new_path)) for box in children] \
        + [(target, new_path)]


def _check_depth(plan: list[tuple[MailboxItem, str]]) -> None:
    """A rename must not push a child past the path limits (levels grow with it)."""
    for _, new_path in plan:
        try:
            mailbox_paths.normalize_path(new_path)
        except ValueError as exc:
            raise InputValidationError(
                {"path": f'"path" would move "{new_path[:64]}" out of limits: it {exc}'}
            ) from None


def _move(user: UserItem, moves: list[tuple[MailboxItem, str]], target_id: str,
          settings: list[Any]) -> None:
    """One transaction moving some mailboxes: path, both lookups, journal entries."""
    tx = Transaction()
    entries: list[tuple[str, dict[str, Any]]] = []
    for box, new_path in moves:
        actions = [MailboxItem.path.set(new_path), *(settings if box.id == target_id else [])]
        tx.update(box, actions=actions, condition=MailboxItem.path == box.path, label="mailbox")
        tx.delete(LookupItem(key=lookups.mailbox_key(user.id, box.path)),
                  condition=(LookupItem.target == box.id) | LookupItem.key.does_not_exist(),
                  label="lookup")
        tx.save(LookupItem(key=lookups.mailbox_key(user.id, new_path), user=user.id,
                           target=box.id),
                condition=LookupItem.key.does_not_exist(), label="path")
        entries.append(("RENAME", {"mailbox": box.id, "path": new_path}))
    journal.append(tx, user, entries, condition=_live())
    tx.commit()
    user.journalSeq = (user.journalSeq or 0) + len(entries)


def _rename(user_id: str, mailbox_id: str, new_path: str, settings: list[Any]) -> bool:
    """Move a mailbox and its children to `new_path`, applying `settings` to it on the
    way; False if it is already there (nothing done).

    Up to MOVES_PER_TX mailboxes move atomically. A larger tree moves in several
    transactions, children first; every intermediate state is consistent (each mailbox
    has exactly one path and lookup), and a path taken concurrently in the middle stops
    the rename with MailboxExistsError, leaving the target and the children not yet
    moved at their old paths.
    """
    until = deadline()
    failures = 0
    while True:
        user = users.get(user_id)
        boxes = mailbox_store.list_for_user(user_id)
        target = next((box for box in boxes if box.id == mailbox_id), None)
        if target is None:
            raise NoSuchMailbox(UPDATE_MISSING)
        if target.path == new_path:
            return False
        # The reference refuses to rename INBOX and hidden mailboxes alike.
        if target.path == INBOX or target.hidden:
            raise DisallowedMailboxMethod(UPDATE_DISALLOWED)
        if mailbox_paths.is_within(new_path, target.path):
            raise DisallowedMailboxMethod("A mailbox can not be moved into itself")
        plan = _rename_plan(boxes, target, new_path)
        _check_depth(plan)
        taken = {box.path for box in boxes}
        if any(path in taken for _, path in plan):
            raise MailboxExistsError(RENAME_EXISTS)
        try:
            for moves in _chunks(plan):
                _move(user, moves, target.id, settings)
            return True
        except TransactionFailed as failure:
            if "path" in failure.failed:
                raise MailboxExistsError(RENAME_EXISTS) from None
            if not _lost_race(failure, {"user", "mailbox", "lookup"}):
                raise
            if not pause(failures, until):
                raise Conflict() from None
            failures += 1


def delete(user_id: str, mailbox_id: str) -> None:
    """Delete a user-made mailbox at once; its messages are removed later.

    One transaction removes the mailbox and its lookup, releases its size from the
    user's storage, queues the purge of its messages, journals DELETE and removes the
    filters that would move mail into it. The messages table is keyed by mailbox, so
    the messages are unreachable from that moment; the purge only reclaims them.
    """
    def build(tx: Transaction) -> list[FilterItem]:
        user = users.get(user_id)
        box = mailbox_store.get(user_id, mailbox_id)
        if box is None:
            raise NoSuchMailbox(DELETE_MISSING)
        if box.path == INBOX or box.specialUse or box.hidden:
            raise DisallowedMailboxMethod(DELETE_DISALLOWED)
        targeting = filter_store.targeting(user_id, box.id)
        count_actions, _ = _count_change(user, -1)
        size = int(box.size or 0)
        user_actions = [*count_actions, *([UserItem.storageUsed.add(-size)] if size else [])]
        now = time.time()
        # Conditioned on the size read: a message stored meanwhile would otherwise stay
        # counted in storageUsed for ever.
        tx.delete(box, condition=(MailboxItem.path == box.path) & (MailboxItem.size == size),
                  label="mailbox")
        tx.delete(LookupItem(key=lookups.mailbox_key(user_id, box.path)),
                  condition=(LookupItem.target == box.id) | LookupItem.key.does_not_exist(),
                  label="lookup")
        tx.save(TaskItem(kind=PURGE_MAILBOX, id=new_id(now), user=user_id,
                         data={"mailbox": box.id, "path": box.path},
                         created=int(now * 1000), notBefore=int(now)))
        for item in targeting[:FILTERS_PER_DELETE_TX]:
            tx.delete(item, condition=filter_store.still_targets(box.id), label="filter")
        journal.append(tx, user, [("DELETE", {"mailbox": box.id})], actions=user_actions,
                       condition=_live())
        return targeting[FILTERS_PER_DELETE_TX:]

    _delete_filters(run(build), mailbox_id)


def _delete_filters(items: list[FilterItem], mailbox_id: str) -> None:
    """Filters beyond what fits in the deletion's transaction; one that was pointed
    elsewhere meanwhile is kept."""
    for item in items:
        try:
            item.delete(condition=filter_store.still_targets(mailbox_id))
        except DeleteError:
            pass


