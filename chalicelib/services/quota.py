"""Recounting the storage an account uses, for when the counter drifted (for example
after manual data repair). Not atomic, as in WildDuck: uploads running at the same time
may be counted or not."""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from chalicelib.errors import UserNotFound
from chalicelib.services.users import get
from chalicelib.store import messages as store
from chalicelib.store.mailboxes import list_for_user
from chalicelib.store.users import UserItem


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
