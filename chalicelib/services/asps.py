"""Application-specific passwords: generated secrets for mail clients, never for `master`.

The number of ASPs a user has is kept exact on the user item (`aspCount`), changed in
the same transaction as every ASP put and delete and conditioned there, so concurrent
creations can never go past the limit.
"""
from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass

from chalicelib import addressing
from chalicelib.clock import now_ms
from chalicelib.config import settings
from chalicelib.errors import (AspNotFound, InputValidationError, ProfileScopeError,
                               ServiceUnavailable, TooMany, UserNotFound)
from chalicelib.ids import new_id
from chalicelib.security import passwords
from chalicelib.security.mobileconfig import Signer, build_mobileconfig, load_signer, sign_profile
from chalicelib.security.secrets import new_asp_password, normalize_asp_password
from chalicelib.services import authlog, users
from chalicelib.services.authlog import Audit
from chalicelib.store.batch import batch_get
from chalicelib.store import asps as store
from chalicelib.store import lookups
from chalicelib.store.asps import AspItem
from chalicelib.store.transact import Transaction, TransactionFailed, run
from chalicelib.store.users import UserItem

MAX_ASPS = 50
ALL_SCOPES = "*"
# What "*" stands for, as WildDuck lists it (the request schema's ASP_SCOPES).
EVERY_SCOPE = ("imap", "pop3", "smtp")


@dataclass(frozen=True)
class Created:
    id: str
    password: str
    mobileconfig: str | None
    # The profile's account (with a mobileconfig only): its display name and address.
    name: str | None = None
    address: str | None = None


def selector(password: str) -> str:
    """A 16-bit hint, stored in clear next to the hash, that picks the ASP to verify.

    Without it a login would run argon2id against each of up to 50 ASPs. With it, the
    expected number of argon2id checks is 1 (plus 49/65536 for a chance collision).

    Unkeyed on purpose: an ASP is 16 random letters, about 75 bits. Someone who reads
    the table learns at most the 16 bits the selector reveals, and the remaining 59
    bits still stand behind argon2id, which is far beyond brute force. A keyed HMAC
    would protect those 16 bits only as long as a server-side key stays secret, and
    would need that key configured, distributed and rotated; it buys nothing worth that.
    """
    return hashlib.sha256(password.encode("ascii")).hexdigest()[:4]


def _expired(item: AspItem, now: float) -> bool:
    return item.expires is not None and item.expires <= now


def listing(user_id: str) -> list[AspItem]:
    """Live ASPs of a live account, oldest first: 1 GetItem (the partition outlives a
    deleted account until the purge) + 1 Query."""
    users.get(user_id)
    now = time.time()
    return [item for item in store.of_user(user_id) if not _expired(item, now)]


def get(user_id: str, asp_id: str) -> AspItem:
    """One live ASP of a live account: both in one BatchGetItem."""
    item, user = batch_get([(AspItem, (user_id, asp_id)), (UserItem, (user_id,))])
    if not isinstance(user, UserItem) or user.deleted:
        raise UserNotFound()
    if not isinstance(item, AspItem) or _expired(item, time.time()):
        raise AspNotFound()
    return item


def _profile_protocol(scopes: list[str]) -> str:
    """Where a profile reads mail with this password: IMAP, else POP3. A profile needs a
    password that may read (imap or pop3) and send (smtp); WildDuck refuses others."""
    if ALL_SCOPES in scopes or ("smtp" in scopes and "imap" in scopes):
        return "imap"
    if "smtp" in scopes and "pop3" in scopes:
        return "pop3"
    raise ProfileScopeError()


def _signer() -> Signer | None:
    """The configured profile signer, or None when profiles go out unsigned."""
    config = settings()
    cert, key = config.mobileconfig_sign_cert, config.mobileconfig_sign_key
    if not cert and not key:
        return None
    if not cert or not key:
        raise ServiceUnavailable("Profile signing needs both MOBILECONFIG_SIGN_CERT and "
                                 "MOBILECONFIG_SIGN_KEY")
    try:
        return load_signer(cert, key, config.mobileconfig_sign_chain)
    except ValueError as error:
        raise ServiceUnavailable(f"The profile signing configuration is not usable: {error}") \
            from None


def create(user_id: str, *, description: str, scopes: list[str], ttl: int | None,
           mobileconfig: bool, audit: Audit, password: str | None = None,
           address: str | None = None) -> Created:
    """A new ASP: generated, or the caller's own `password` (WildDuck's format). The
    profile's account address is `address` when it is one of the user's own."""
    # Everything a profile needs is checked before the password exists.
    protocol = _profile_protocol(scopes) if mobileconfig else None
    signer = _signer() if mobileconfig else None
    user = users.get(user_id)
    if address is not None:
        holder = lookups.resolve(lookups.address_key(addressing.normalize_address(address)))
        if holder is None or holder.user != user_id:
            raise InputValidationError({"address": "Unknown email address"})
    password = password or new_asp_password()
    created = now_ms()
    item = AspItem(user=user_id, id=new_id(), description=description, scopes=scopes,
                   password=passwords.hash_password(password, settings().password_hash_profile),
                   selector=selector(password), created=created,
                   expires=created // 1000 + ttl if ttl else None)
    too_many = f"A user can have at most {MAX_ASPS} application specific passwords"

    def build(tx: Transaction) -> None:
        tx.update(UserItem(id=user_id), actions=[UserItem.aspCount.add(1)],
                  condition=UserItem.kind.exists()
                  & (UserItem.aspCount.does_not_exist() | (UserItem.aspCount < MAX_ASPS)),
                  label="user")
        tx.save(item, condition=AspItem.id.does_not_exist())
        tx.save(authlog.entry(user_id, "create asp", audit, result="success", asp=item.id,
                              aname=item.description))

    def reclaim(failure: TransactionFailed) -> None:
        if "user" in failure.failed and not _reclaim_expired(user_id):
            raise TooMany(too_many)

    run(build, on_retry=reclaim)
    if not protocol:
        return Created(id=item.id, password=password, mobileconfig=None)
    email, name = address or user.address or user.username, user.name or ""
    profile = _mobileconfig(user, password, protocol, signer, email, name)
    return Created(id=item.id, password=password, mobileconfig=profile, name=name,
                   address=email)


def _reclaim_expired(user_id: str) -> bool:
    """Drop expired ASPs from the count; True when a retry of the creation may succeed.

    TTL deletes expired items without touching `aspCount`, so the count can exceed the
    items left. The count is read first and the partition second; the transaction then
    sets the count to the live items and deletes the expired ones still present, on
    condition that the count did not move. Any concurrent create or delete moves it, so
    the new count is never lower than the truth.
    """
    user = users.get(user_id)
    count = int(user.aspCount or 0)
    if count < MAX_ASPS:
        return True  # something was deleted meanwhile
    now = time.time()
    items = store.of_user(user_id)
    live = [item for item in items if not _expired(item, now)]
    if len(live) >= MAX_ASPS:
        return False
    tx = Transaction()
    tx.update(user, actions=[UserItem.aspCount.set(len(live))],
              condition=UserItem.kind.exists() & (UserItem.aspCount == count), label="user")
    for item in items:
        if _expired(item, now):
            tx.delete(item)
    try:
        tx.commit()
    except TransactionFailed:
        pass  # raced with another change; the caller's retry reads again
    return True


def delete(user_id: str, asp_id: str, audit: Audit) -> None:
    now = int(time.time())

    def build(tx: Transaction) -> None:
        found = store.get(user_id, asp_id)  # its description goes into the log entry
        tx.delete(AspItem(user=user_id, id=asp_id),
                  condition=AspItem.id.exists()
                  & (AspItem.expires.does_not_exist() | (AspItem.expires > now)), label="asp")
        tx.update(UserItem(id=user_id), actions=[UserItem.aspCount.add(-1)],
                  condition=UserItem.kind.exists(), label="user")
        tx.save(authlog.entry(user_id, "delete asp", audit, result="success", asp=asp_id,
                              aname=found.description if found is not None else None))

    run(build, errors={"user": UserNotFound, "asp": AspNotFound})


def find(user_id: str, password: str) -> AspItem | None:
    """The live ASP this password opens, if it has the ASP form (1 Query)."""
    normalized = normalize_asp_password(password)
    if normalized is None:
        return None
    now = time.time()
    for item in store.of_user(user_id, selector(normalized)):
        if not _expired(item, now) and passwords.verify_password(normalized, item.password):
            return item
    return None


def allows(item: AspItem, scope: str) -> bool:
    return ALL_SCOPES in item.scopes or scope in item.scopes


def record_use(item: AspItem, time_ms: int, event: str) -> None:
    store.record_use(item.user, item.id, time_ms, event)


def _mobileconfig(user: UserItem, password: str, protocol: str, signer: Signer | None,
                  email: str, name: str) -> str:
    config = settings()
    domain = ".".join(reversed(config.default_domain.lower().split(".")))
    profile = build_mobileconfig(
        email=email, display_name=name,
        username=user.username, password=password,
        imap_host=config.imap_host, imap_port=config.imap_port, imap_ssl=config.imap_ssl,
        smtp_host=config.smtp_host, smtp_port=config.smtp_port, smtp_ssl=config.smtp_ssl,
        identifier=f"{domain}.mail.{user.id}", organization=config.service_name,
        incoming="pop3" if protocol == "pop3" else "imap", pop3_host=config.pop3_host,
        pop3_port=config.pop3_port, pop3_ssl=config.pop3_ssl)
    if signer is not None:
        profile = sign_profile(profile, signer)
    return base64.b64encode(profile).decode("ascii")


