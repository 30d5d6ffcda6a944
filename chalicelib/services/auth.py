"""Password authentication for IMAP/POP3/SMTP front-ends and web apps.

Resolution costs one lookup GetItem (two only for a `name@domain` username that is not
also an address) and one consistent GetItem of the account; every attempt that names a
real account is written to its authlog. For a non-master scope a password of the ASP
form is first looked up among the user's application-specific passwords (1 Query);
failed attempts count toward the per-user rate limit (services/ratelimit.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

from pynamodb.exceptions import UpdateError

from chalicelib import addressing
from chalicelib.config import settings
from chalicelib.errors import AuthFailed, InvalidAuthScope, RateLimitedError
from chalicelib.security import passwords
from chalicelib.services import asps, authlog, ratelimit, tokens, users
from chalicelib.services.authlog import Audit
from chalicelib.store import lookups
from chalicelib.store.asps import AspItem
from chalicelib.store.users import UserItem

if TYPE_CHECKING:
    from chalicelib.schemas.auth import Authenticate


@dataclass(frozen=True)
class Verified:
    """Which credential matched, and what the caller must do next."""

    source: str  # master | temporary | asp
    require_password_change: bool = False
    asp: AspItem | None = None


def _login_keys(login: str) -> list[str]:
    login = login.strip()
    keys = []
    if "@" in login and addressing.is_valid_address(login):
        keys.append(lookups.address_key(addressing.normalize_address(login)))
    keys.append(lookups.username_key(addressing.unameview(login)))
    return keys


def resolve_login(login: str) -> UserItem | None:
    """The live account a username or any of its addresses names, else None.

    One GetItem per candidate key, most likely first: a login that looks like an
    address is resolved as one (1 GetItem) and tried as a username (`name@domain`
    usernames exist) only when no address matches.
    """
    found = None
    for key in _login_keys(login):
        found = lookups.resolve(key)
        if found is not None:
            break
    if found is None:
        return None
    try:
        user = UserItem.get(found.user, consistent_read=True)
    except UserItem.DoesNotExist:
        return None
    return None if user.deleted else user


def verify_master(user: UserItem, password: str) -> Verified | None:
    """The account password, or the temporary one from a reset while it is valid."""
    source = users.password_source(user, password)
    if source == "master":
        return Verified("master", require_password_change=bool(user.requirePasswordChange))
    if source == "temporary":
        return Verified("temporary", require_password_change=True)
    return None


def verify_credentials(user: UserItem, password: str, scope: str) -> Verified | None:
    """An ASP (never for `master`), else the account or temporary password."""
    if scope != "master":
        asp = asps.find(user.id, password)
        if asp is not None:
            return Verified("asp", asp=asp)
    return verify_master(user, password)


@dataclass(frozen=True)
class Authenticated:
    """A successful login: the account, what it asked for, what it must do next."""

    user: UserItem
    scope: str
    require2fa: list[str]
    require_password_change: bool
    token: str | None


def authenticate(params: Authenticate) -> Authenticated:
    audit = Audit(params.sess, params.ip)
    user = resolve_login(params.username)
    if user is None:
        raise AuthFailed()

    def fail(error: Exception, verified: Verified | None = None) -> Exception:
        authlog.record(user.id, "authentication", audit, result="fail",
                       source=verified.source if verified else None,
                       asp=verified.asp.id if verified and verified.asp else None,
                       protocol=params.protocol, scope=params.scope)
        return error

    try:
        ratelimit.ensure_allowed(user, ratelimit.AUTHENTICATION)
    except RateLimitedError as error:
        raise fail(error) from None
    if user.disabled or user.suspended or not user.activated:
        raise fail(AuthFailed("User account is disabled"))
    if params.scope in (user.disabledScopes or []):
        raise fail(InvalidAuthScope(f"Access to {params.scope} is disabled for this user"))
    verified = verify_credentials(user, params.password, params.scope)
    if verified is None:
        ratelimit.record_failure(user.id, ratelimit.AUTHENTICATION)
        raise fail(AuthFailed())
    enabled2fa = list(user.enabled2fa or [])
    if verified.asp is not None and not asps.allows(verified.asp, params.scope):
        raise fail(InvalidAuthScope(f"This password can not be used for {params.scope}"),
                   verified)
    if verified.asp is None and params.scope != "master" and (
            verified.source == "temporary" or enabled2fa):
        raise fail(InvalidAuthScope("This password can only be used for the master scope"),
                   verified)
    entry = authlog.entry(user.id, "authentication", audit, result="success",
                          source=verified.source,
                          asp=verified.asp.id if verified.asp else None,
                          protocol=params.protocol, scope=params.scope)
    entry.save()
    if verified.asp is not None:
        asps.record_use(verified.asp, entry.created, entry.id)
    if verified.source == "master" and passwords.needs_rehash(
            user.password, settings().password_hash_profile):
        _rehash(user, params.password)
    # ASPs serve non-master scopes only, so they never ask for a second factor.
    require2fa = list(enabled2fa) if enabled2fa and params.scope == "master" else []
    token = tokens.issue(user.id, pending_2fa=bool(require2fa),
                         temporary=verified.source == "temporary") if params.token else None
    return Authenticated(user, params.scope, require2fa, verified.require_password_change,
                         token)


def _rehash(user: UserItem, password: str) -> None:
    """Upgrade an imported or outdated hash now that the plain password is known."""
    new_hash = passwords.hash_password(password, settings().password_hash_profile)
    try:
        user.update(actions=[UserItem.password.set(new_hash)],
                    condition=UserItem.password == user.password)
    except UpdateError as error:  # a concurrent password change won: nothing to upgrade
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
