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
from chalicelib.errors import (AuthFailed, InvalidAuthScope, RateLimitedError,
                               TempPasswordNotYetValid)
from chalicelib.security import passwords
from chalicelib.services import addresses, asps, authlog, ratelimit, tokens, users
from chalicelib.services.authlog import Audit
from chalicelib.store import lookups
from chalicelib.store.addresses import FORWARDED
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


def resolve_login(login: str) -> UserItem | None:
    """The live account a username or any of its addresses names, else None.

    One GetItem per candidate, most likely first: a login that looks like an address is
    resolved as one (1 GetItem, 2 more at an alias domain: services/domain_aliases) and
    tried as a username (`name@domain` usernames exist) only when no address matches.
    A forwarded address belongs to no account, so it never logs in.
    """
    login = login.strip()
    found = None
    if "@" in login and addressing.is_valid_address(login):
        found = addresses.lookup(login)
    if found is None:
        found = lookups.resolve(lookups.username_key(addressing.unameview(login)))
    if found is None or found.user == FORWARDED:
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
    if source == "not yet valid":
        raise TempPasswordNotYetValid()
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
                       aname=verified.asp.description if verified and verified.asp else None,
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
    try:
        verified = verify_credentials(user, params.password, params.scope)
    except TempPasswordNotYetValid as error:
        raise fail(error) from None
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
                          aname=verified.asp.description if verified.asp else None,
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


def preauth(login: str, scope: str) -> tuple[UserItem, list[str]]:
    """Whether `login` names an account that may authenticate for `scope`, without a
    password: the account and the second factors it would ask for. Nothing is logged
    and nothing counts toward the rate limit (no credential is tried). As in WildDuck,
    a disabled account is a plain `AuthFailed`, a disabled scope says so (with the
    account id)."""
    user = resolve_login(login)
    if user is None or user.disabled or user.suspended or not user.activated:
        raise AuthFailed()
    if scope in (user.disabledScopes or []):
        raise InvalidAuthScope("Access to requested service disabled", id=user.id)
    return user, list(user.enabled2fa or []) if scope == "master" else []


def _rehash(user: UserItem, password: str) -> None:
    """Upgrade an imported or outdated hash now that the plain password is known."""
    new_hash = passwords.hash_password(password, settings().password_hash_profile)
    try:
        user.update(actions=[UserItem.password.set(new_hash)],
                    condition=UserItem.password == user.password)
    except UpdateError as error:  # a concurrent password change won: nothing to upgrade
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
