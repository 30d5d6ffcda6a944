"""Recounting the storage an account uses, for when the counter drifted (for example
after manual data repair). Not atomic, as in WildDuck: uploads running at the same time
may be counted or not.

`POST /quota/reset` recounts every account in the background: it queues a
`quota-reset` task, and the scheduled job `reset_quotas` walks the live accounts in id
order a bounded number per run, keeping its place in the task (`data.after`), so a run
cut short is continued by the next.
"""
from __future__ import annotations

import time

from pynamodb.exceptions import UpdateError

from chalicelib.errors import UserNotFound
from chalicelib.ids import new_id
from chalicelib.services.users import get
from chalicelib.store import messages as store
from chalicelib.store.mailboxes import list_for_user
from chalicelib.store.tasks import QUOTA_RESET, TaskItem
from chalicelib.store.users import LIVE, UserItem


def recount(user_id: str) -> int:
    """Sum of the sizes of the account's messages in mailboxes that still exist (messages
    of a deleted mailbox await the purge worker and no longer count)."""
    mailboxes = {box.id for box in list_for_user(user_id)}
    return sum(int(item.size) for item in store.of_user(user_id) if item.mailbox in mailboxes)


def reset(user_id: str) -> tuple[int, int]:
    """(storageUsed, previousStorageUsed)."""
    user = get(user_id)
    previous = int(user.storageUsed or 0)
    used = recount(user_id)
    try:
        user.update(actions=[UserItem.storageUsed.set(used)], condition=UserItem.kind.exists())
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise UserNotFound() from None
        raise
    return used, previous


def queue_reset_all() -> str:
    """Queue the recount of every account; the task id."""
    now = time.time()
    task = TaskItem(kind=QUOTA_RESET, id=new_id(now), user="*", data={},
                    created=int(now * 1000))
    task.save()
    return task.id


def reset_all(max_users: int = 200) -> tuple[int, int]:
    """Continue the queued recounts, at most `max_users` accounts in this run:
    (tasks finished, accounts recounted)."""
    done = recounted = 0
    for task in TaskItem.query(QUOTA_RESET, consistent_read=True):
        after = str((task.data.as_dict() if task.data else {}).get("after") or "")
        condition = UserItem.id > after if after else None
        finished = True
        for user in UserItem.by_kind.query(LIVE, range_key_condition=condition,
                                           attributes_to_get=["id"]):
            if recounted >= max_users:
                finished = False
                break
            try:
                reset(user.id)
            except UserNotFound:
                pass  # deleted since the index was read
            recounted += 1
            after = user.id
        if not finished:
            task.update(actions=[TaskItem.data.set({"after": after})])
            break
        task.delete()
        done += 1
    return done, recounted
