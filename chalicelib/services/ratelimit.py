"""Failure rate limits that hold across every Lambda instance.

A limit counts failures per user in a window opened by the first failure (a counter
item in the keys table, expiring by TTL). When the count reaches the limit, the user
item gets a lock marker (`authLockedUntil` / `totpLockedUntil`) that lasts until the
window closes.

Why the marker: every attempt already reads the user item (authentication resolves the
account, a TOTP check needs its seed), so the marker costs the successful path no extra
read, and the budgets of /authenticate and of a TOTP check stay as they are. The
counter itself lives in `keys` so that failures never rewrite the user item more than
once per window; only failing attempts write at all. Successful attempts neither read
nor reset the counter.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from pynamodb.exceptions import UpdateError

from chalicelib.errors import RateLimitedError
from chalicelib.store import keys
from chalicelib.store.users import UserItem


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    window: int  # seconds
    lock_attribute: str  # the UserItem attribute that marks the lock


AUTHENTICATION = Limit("auth", 12, 120, "authLockedUntil")
TOTP_CHECK = Limit("totp", 12, 120, "totpLockedUntil")


def ensure_allowed(user: UserItem, limit: Limit) -> None:
    """Refuse the attempt while the user is locked out under `limit`."""
    until = getattr(user, limit.lock_attribute)
    now = time.time()
    if until and until > now:
        raise RateLimitedError(max(1, math.ceil(until - now)))


def record_failure(user_id: str, limit: Limit) -> None:
    """Count a failed attempt; the one that reaches the limit locks further attempts."""
    counter = keys.count_failure(limit.name, user_id, limit.window, int(time.time()))
    if counter.count < limit.attempts:
        return
    attribute = getattr(UserItem, limit.lock_attribute)
    try:
        UserItem(id=user_id).update(actions=[attribute.set(int(counter.expires))],
                                    condition=UserItem.id.exists())
    except UpdateError as error:  # the account vanished meanwhile: nothing to lock
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
