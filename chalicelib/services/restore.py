"""Undoing an account deletion within its grace period (`/users/{user}/restore`).

Deletion keeps the user item (marked `deleted`), its messages, addresses and logs until
the purge task runs; only the mailbox items and the names (username, address and
mailbox lookups) go at once. So that a restore can bring the mailboxes back with their
ids, uids and counters (the messages refer to them), the deletion writes a snapshot of
the mailbox items into its purge task. A restore then re-creates, in one transaction:
the account's liveness and username, its mailboxes and their names, the addresses no
other account has taken since, and drops the purge task. The addresses' id lookups
(`addressid#`) stay through the deletion, so there is none to re-create: an address
answers by id again once its item has `kind` back.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import AccountNotFound, DeleteInProgress, UserExistsError
from chalicelib.services import authlog
from chalicelib.services.authlog import Audit
from chalicelib.store import addresses as address_store
from chalicelib.store import counters, lookups
from chalicelib.store.addresses import KIND, AddressItem
from chalicelib.store.lookups import LookupItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.tasks import PURGE_USER, TaskItem
from chalicelib.store.transact import Transaction, run
from chalicelib.store.users import LIVE, UserItem

# A snapshot stays well inside the task item's 400 KB (a mailbox is ~300 bytes); an
# account with more mailboxes than this can not be restored (docs/compatibility.md).
MAX_SNAPSHOT_MAILBOXES = 500


def snapshot(boxes: list[MailboxItem]) -> dict[str, Any]:
    """What the purge task keeps for a restore: the mailbox items as they were."""
    if len(boxes) > MAX_SNAPSHOT_MAILBOXES:
        return {}
    return {"mailboxes": [box.to_simple_dict() for box in boxes]}


@dataclass(frozen=True)
class Deleted:
    user: UserItem
    task: TaskItem | None
    addresses: list[AddressItem]  # those whose address no other account holds now


def _mailbox(snapshot_item: dict[str, Any]) -> MailboxItem:
    box = MailboxItem()
    box.from_simple_dict(snapshot_item)
    return box


def _deleted(user_id: str) -> Deleted:
    try:
        user = UserItem.get(user_id, consistent_read=True)
    except UserItem.DoesNotExist:
        raise AccountNotFound() from None
    if not user.deleted:
        raise AccountNotFound()
    task = next((item for item in TaskItem.query(PURGE_USER, consistent_read=True)
                 if item.user == user_id), None)
    free = []
    for item in address_store.list_for_user(user_id):
        holder = lookups.resolve(lookups.address_key(item.addrview))
        if holder is None or holder.user == user_id:
            free.append(item)
    return Deleted(user, task, free)


def info(user_id: str) -> dict[str, Any]:
    """What a restore would bring back."""
    found = _deleted(user_id)
    user = found.user
    return {"user": user.id, "username": user.username,
            "storageUsed": max(0, int(user.storageUsed or 0)), "tags": list(user.tags or []),
            "deleted": int(user.deleted or 0),
            "recoverableAddresses": [item.address for item in found.addresses]}


def restore(user_id: str, audit: Audit) -> dict[str, Any]:
    """Cancel the deletion: see the module docstring. Answers the cancelled task, how many
    addresses came back and which is main."""
    def build(tx: Transaction) -> dict[str, Any]:
        found = _deleted(user_id)
        user, task = found.user, found.task
        data = task.data.as_dict() if task is not None and task.data else {}
        if task is None or task.notBefore <= time.time() or "mailboxes" not in data:
            raise DeleteInProgress() if task is not None else AccountNotFound()
        tx.delete(task, condition=TaskItem.id.exists(), label="task")
        boxes = [_mailbox(box) for box in data["mailboxes"]]
        for box in boxes:
            tx.save(box, condition=MailboxItem.id.does_not_exist())
            tx.save(LookupItem(key=lookups.mailbox_key(user_id, box.path), user=user_id,
                               target=box.id), condition=LookupItem.key.does_not_exist())
        for item in found.addresses:
            # Taken meanwhile: the transaction fails and the next attempt skips it.
            tx.save(LookupItem(key=lookups.address_key(item.addrview), user=user_id,
                               target=item.id, address=item.address),
                    condition=LookupItem.key.does_not_exist() | (LookupItem.user == user_id))
            tx.update(item, actions=[AddressItem.kind.set(KIND)])
        mains = [item for item in found.addresses if item.address == user.address] or \
            [item for item in found.addresses if item.main] or found.addresses[:1]
        main = mains[0].address if mains else None
        tx.update(user, actions=[UserItem.kind.set(LIVE), UserItem.deleted.remove(),
                                 UserItem.address.set(main) if main else UserItem.address.remove(),
                                 UserItem.mailboxCount.set(len(boxes)),
                                 UserItem.addressCount.set(len(found.addresses))],
                  condition=UserItem.deleted.exists() & UserItem.kind.does_not_exist(),
                  label="user")
        tx.save(LookupItem(key=lookups.username_key(user.unameview), user=user_id),
                condition=LookupItem.key.does_not_exist(), label="username")
        tx.save(authlog.entry(user_id, "restore user", audit, result="success"))
        counters.add(tx, counters.USERS, 1)
        counters.add(tx, counters.ADDRESSES, len(found.addresses))
        addresses: dict[str, Any] = {"recovered": len(found.addresses)}
        if main:
            addresses["main"] = main
        return {"code": "TaskCancelled", "user": user_id, "task": task.id,
                "addresses": addresses}

    return run(build, errors={"task": AccountNotFound, "user": AccountNotFound,
                              "username": UserExistsError})
