"""User-scoped API tokens, issued by /authenticate with `token: true`.

Only the SHA-256 of a token is stored (tokens are 160 random bits, so a fast hash is
enough), with the owner and the time of issue, expiring by TTL. A token dies when it
expires, when it is revoked, and when the owner's password changes after it was issued
(`passwordChanged` on the user item is compared with the time of issue; nothing has to
find and delete the owner's tokens).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from chalicelib.clock import now_ms
from chalicelib.config import settings
from chalicelib.errors import InvalidToken, MissingPrivileges
from chalicelib.security.secrets import new_token, token_digest
from chalicelib.store import keys
from chalicelib.store.keys import KeyItem
from chalicelib.store.users import UserItem

_TOKEN_RE = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class UserToken:
    """The principal of a request made with a user token."""

    user: str
    digest: str
    pending_2fa: bool = False
    temporary: bool = False  # issued for a temporary password: only to change it


def looks_like_token(value: str) -> bool:
    return bool(_TOKEN_RE.fullmatch(value))


def issue(user_id: str, pending_2fa: bool = False, temporary: bool = False) -> str:
    """A new token. One issued to an account with 2FA on is `pending_2fa` until a TOTP
    check made with it succeeds: a password alone must not unlock the account. One
    issued for a temporary password (`temporary`) serves only to set a new password,
    which is what that login is for (the change then revokes it like any token)."""
    token = new_token()
    created = now_ms()
    keys.save_token(token_digest(token), user_id, created,
                    created // 1000 + settings().user_token_ttl, pending_2fa=pending_2fa,
                    temporary=temporary)
    return token


def complete_2fa(principal: UserToken) -> None:
    """The second factor was checked with this token: lift its restriction."""
    if principal.pending_2fa:
        keys.clear_token_pending_2fa(principal.digest)


def _flag(item: KeyItem, name: str) -> bool:
    return bool((item.data.as_dict() if item.data else {}).get(name))


def _principal(item: KeyItem, user_id: str, digest: str) -> UserToken:
    return UserToken(user=user_id, digest=digest, pending_2fa=_flag(item, "pending2fa"),
                     temporary=_flag(item, "temporaryPassword"))


def _live(item: KeyItem | None) -> bool:
    return item is not None and item.expires > time.time()


def _valid_for(item: KeyItem, user: UserItem | None) -> bool:
    if user is None or user.deleted or user.disabled or user.suspended:
        return False
    issued = int((item.data.as_dict() if item.data else {}).get("created", 0))
    return int(user.passwordChanged or 0) <= issued


def authorize(token: str, user_id: str) -> UserToken:
    """The principal if `token` may act on `user_id`'s routes (1 BatchGetItem).

    A live token of another user is MissingPrivileges without its owner being read:
    either way nothing is granted.
    """
    digest = token_digest(token)
    item, user = keys.token_and_user(digest, user_id)
    if item is None or not _live(item):
        raise InvalidToken()
    if item.user != user_id:
        raise MissingPrivileges()
    if not _valid_for(item, user):
        raise InvalidToken()
    return _principal(item, user_id, digest)


def identify(token: str) -> UserToken:
    """The principal of a valid token, whatever route it is used on (2 GetItem)."""
    digest = token_digest(token)
    item = keys.get_token(digest)
    if item is None or not _live(item) or not item.user:
        raise InvalidToken()
    try:
        user = UserItem.get(item.user, consistent_read=True)
    except UserItem.DoesNotExist:
        user = None
    if not _valid_for(item, user):
        raise InvalidToken()
    return _principal(item, item.user, digest)


def revoke(principal: UserToken) -> None:
    keys.delete_token(principal.digest)
