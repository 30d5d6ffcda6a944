"""Accounts: creation with their addresses and mailboxes, profile changes, deletion."""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition

from chalicelib import addressing
from chalicelib.clock import now_ms
from chalicelib.config import settings
from chalicelib.cursors import decode_cursor
from chalicelib.errors import (AddressExistsError, AuthFailed, Conflict, InputValidationError,
                               UserExistsError, UserNotFound)
from chalicelib.ids import new_id
from chalicelib.security import passwords, pgp
from chalicelib.security.secrets import new_temporary_password
from chalicelib.services import authlog, idempotency, restore
from chalicelib.services.authlog import Audit
from chalicelib.services.mailbox_defaults import default_mailboxes
from chalicelib.store import counters, journal, lookups
from chalicelib.store import mailboxes as mailbox_store
from chalicelib.store.addresses import AddressItem
from chalicelib.store.base import set_or_remove
from chalicelib.store.authlog import AuthlogItem
from chalicelib.store.lookups import LookupItem
from chalicelib.store.mailboxes import MailboxItem
from chalicelib.store.paging import Page, query_page
from chalicelib.store.tasks import PURGE_USER, TaskItem
from chalicelib.store.transact import MAX_ITEMS, Transaction, chunked, run
from chalicelib.store.users import LIVE, UserItem, has_pub_key

if TYPE_CHECKING:
    from chalicelib.schemas.users import CreateUser, ListUsers, UpdateUser

TEMP_PASSWORD_TTL_MS = 24 * 3600 * 1000
PURGE_DELAY_S = 2 * 24 * 3600
DEFAULT_SPAM_LEVEL = 50
GIB = 1024 ** 3
# What applies to an account that sets none of these limits (WildDuck's defaults).
LIMIT_DEFAULTS = {"imapMaxUpload": 10 * GIB, "imapMaxDownload": 10 * GIB,
                  "pop3MaxDownload": 10 * GIB, "pop3MaxMessages": 250,
                  "imapMaxConnections": 15, "receivedMax": 60}
LIMIT_FIELDS = tuple(LIMIT_DEFAULTS)  # 0 (or absent) means the default


def get(user_id: str) -> UserItem:
    """A live account, read consistently (1 GetItem). Deleted accounts do not exist."""
    try:
        user = UserItem.get(user_id, consistent_read=True)
    except UserItem.DoesNotExist:
        raise UserNotFound() from None
    if user.deleted:
        raise UserNotFound()
    return user


def _key_info(pub_key: str | None) -> dict[str, Any] | None:
    if not pub_key:
        return None
    try:
        info = pgp.key_info(pub_key)
    except pgp.InvalidPublicKey as exc:
        raise InputValidationError({"pubKey": f'"pubKey" {exc}'}) from None
    return {"name": info.name, "address": info.address, "fingerprint": info.fingerprint}


NEEDS_KEY = '"encryptMessages" needs a "pubKey" to encrypt with'


def _check_encryption(encrypts: bool, pub_key: str | None, removing_key: bool) -> None:
    """Refuse to promise encryption without a key: the mail would be stored in clear
    (WildDuck accepts it and stores clear text; see docs/architecture.md)."""
    if encrypts and not pub_key:
        if removing_key:
            raise InputValidationError(
                {"pubKey": '"pubKey" can not be removed while "encryptMessages" is on'})
        raise InputValidationError({"encryptMessages": NEEDS_KEY})


def _given(params: UpdateUser) -> set[str]:
    """The fields an update changes. An empty value of a yes/no field (`""`, null) leaves
    it as it is: storing a null there would read as "no" here but fail every condition
    that expects false. So does an empty `name` or `language`, as in WildDuck."""
    return {name for name in params.model_fields_set
            if name not in _PLAIN_FIELDS or getattr(params, name) is not None}


def _check_encryption_update(params: UpdateUser, user: UserItem) -> Condition | None:
    """Check the encryption an update leaves the account with; returns the condition that
    keeps the check true against a concurrent update of the other field."""
    given = _given(params)
    if not given & {"encryptMessages", "pubKey"}:
        return None
    sets_flag, sets_key = "encryptMessages" in given, "pubKey" in given
    _check_encryption(bool(params.encryptMessages) if sets_flag else bool(user.encryptMessages),
                      params.pubKey if sets_key else user.pubKey,
                      removing_key=sets_key and not params.pubKey and not sets_flag)
    if sets_flag and params.encryptMessages and not sets_key:
        return has_pub_key()
    if sets_key and not params.pubKey and not sets_flag:
        return UserItem.encryptMessages.does_not_exist() | (UserItem.encryptMessages == False)  # noqa: E712
    return None


def _password_hash(password: str | None, already_hashed: bool) -> str | None:
    if password is None:
        return None
    if already_hashed:
        if not passwords.is_supported_hash(password):
            raise InputValidationError(
                {"password": '"password" is not a supported password hash'})
        return password
    return passwords.hash_password(password, settings().password_hash_profile)


def create(params: CreateUser, once: idempotency.Claim | None = None) -> str:
    """Create the account, its main address and default mailboxes in one transaction
    (with the record of an `Idempotency-Key`, when the request has one)."""
    config = settings()
    _check_encryption(params.encryptMessages, params.pubKey, removing_key=False)
    key_info = _key_info(params.pubKey)
    password_hash = _password_hash(params.password, params.hashedPassword)
    address = params.address
    if address is None and not params.emptyAddress:
        candidate = params.username if "@" in params.username \
            else f"{params.username}@{config.default_domain}"
        try:
            address = addressing.display_address(candidate)
        except ValueError:
            raise InputValidationError({"address": f'"{params.username}" does not make a valid '
                                                   'address: give "address", or set '
                                                   '"emptyAddress"'}) from None

    now = now_ms()
    user_id = new_id()
    uname = addressing.unameview(params.username)
    retention = params.retention or 0
    mailboxes = default_mailboxes(params.language, retention, _special_names(params))
    paths = [path for path, _, _ in mailboxes]
    clash = next((path for path in paths if paths.count(path) > 1), None)
    if clash:  # a given name equal to a default one left in place
        raise InputValidationError({"mailboxes": f"Duplicate mailbox name: {clash}"})
    user = UserItem(
        id=user_id, kind=LIVE, username=params.username, unameview=uname, name=params.name,
        address=address, password=password_hash, hasPassword=password_hash is not None,
        passwordChanged=now, requirePasswordChange=params.requirePasswordChange,
        quota=params.quota or None, storageUsed=0, retention=retention,
        language=params.language, recipients=params.recipients or 0,
        forwards=params.forwards or 0, filters=params.filters or None, tags=params.tags or [],
        tagsview=[t.lower() for t in params.tags or []], pubKey=params.pubKey or None,
        keyInfo=key_info, encryptMessages=params.encryptMessages,
        encryptForwarded=params.encryptForwarded, enabled2fa=[],
        disabledScopes=params.disabledScopes or [], activated=True, disabled=False,
        suspended=False, journalSeq=0, mailboxCount=len(mailboxes),
        addressCount=1 if address else 0, created=now,
        spamLevel=DEFAULT_SPAM_LEVEL if params.spamLevel is None else params.spamLevel,
        targets=params.targets or None, uploadSentMessages=bool(params.uploadSentMessages),
        fromWhitelist=params.fromWhitelist or None, featureFlags=_flags_on(params) or None,
        metaData=params.metaData, internalData=params.internalData,
        **{name: getattr(params, name) or None for name in LIMIT_FIELDS})
    address_tags = (params.tags or []) if params.addTagsToAddress else []

    def build(tx: Transaction) -> str:
        tx.save(user, condition=UserItem.id.does_not_exist(), label="user")
        tx.save(LookupItem(key=lookups.username_key(uname), user=user_id),
                condition=LookupItem.key.does_not_exist(), label="username")
        if address:
            address_id = new_id()
            addrview = addressing.normalize_address(address)
            lookups.add_address(tx, addrview, user_id, address_id, address)
            tx.save(AddressItem(user=user_id, id=address_id, address=address,
                                addrview=addrview, main=True, tags=address_tags,
                                tagsview=[tag.lower() for tag in address_tags], created=now))
        for path, special_use, box_retention in mailboxes:
            mailbox_id = new_id()
            tx.save(MailboxItem(user=user_id, id=mailbox_id, path=path,
                                specialUse=special_use, subscribed=True,
                                retention=box_retention, uidValidity=int(time.time()),
                                uidNext=1, modifyIndex=0, total=0, unseen=0, size=0,
                                created=now))
            tx.save(LookupItem(key=lookups.mailbox_key(user_id, path), user=user_id,
                               target=mailbox_id), condition=LookupItem.key.does_not_exist())
        audit = Audit(params.sess, params.ip)
        tx.save(authlog.entry(user_id, "account created", audit, result="success"))
        for entry in forwards_added(user_id, params.targets or [], [], audit):
            tx.save(entry)
        counters.add(tx, counters.USERS, 1)
        counters.add(tx, counters.ADDRESSES, 1 if address else 0)
        idempotency.record(tx, once, {"id": user_id})
        return user_id

    return run(build, errors={"idempotency": idempotency.Replayed,
                              "username": UserExistsError, "address": AddressExistsError})


def _special_names(params: CreateUser) -> dict[str, str]:
    """`mailboxes` of the request by special use (`\\Sent`: "Outbox"); each name once."""
    names: dict[str, str] = {}
    if params.mailboxes is None:
        return names
    seen = {"INBOX"}
    for key in ("sent", "junk", "trash", "drafts"):
        name = getattr(params.mailboxes, key)
        if not name:
            continue
        if name in seen:
            raise InputValidationError({"mailboxes": f"Duplicate mailbox name: {name}"})
        seen.add(name)
        names["\\" + key.capitalize()] = name
    return names


def _flags_on(params: CreateUser | UpdateUser) -> list[str]:
    flags = params.featureFlags
    return [name for name, on in (flags.model_dump() if flags else {}).items() if on]


def _listing_filter(params: ListUsers) -> Condition | None:
    conditions: list[Condition] = []
    if params.query:
        needle = params.query.strip().lower()
        conditions.append(UserItem.unameview.contains(addressing.unameview(needle))
                          | UserItem.username.contains(needle)
                          | UserItem.address.contains(needle))
    if params.forward:  # a list attribute: DynamoDB tests membership, not a substring
        conditions.append(UserItem.targets.contains(params.forward.strip()))
    if params.tags:
        any_tag = UserItem.tagsview.contains(params.tags[0].lower())
        for tag in params.tags[1:]:
            any_tag |= UserItem.tagsview.contains(tag.lower())
        conditions.append(any_tag)
    for tag in params.requiredTags or []:
        conditions.append(UserItem.tagsview.contains(tag.lower()))
    filter_condition = None
    for condition in conditions:
        filter_condition = condition if filter_condition is None else filter_condition & condition
    return filter_condition


def listing(params: ListUsers) -> Page[UserItem]:
    """Live accounts in id order, optionally matching a query, a target and tags."""
    scope = "users"
    cursor = None
    if params.next:
        cursor = decode_cursor(scope, params.next, "next")
    elif params.previous:
        cursor = decode_cursor(scope, params.previous, "previous")
    return query_page(UserItem, LIVE, index="by_kind", scope=scope,
                      key_names=["kind", "id"], limit=params.limit, cursor=cursor,
                      filter_condition=_listing_filter(params))


def count(params: ListUsers) -> int:
    """How many live accounts match the listing's filters: the counter kept by every
    creation, deletion and restore (1 GetItem), or, with filters, a count over the
    byKind index (reads every live account's item; see docs/architecture.md)."""
    condition = _listing_filter(params)
    if condition is None:
        return counters.value(counters.USERS)
    return UserItem.by_kind.count(LIVE, filter_condition=condition)


def resolve(username: str) -> str:
    """The id of the live account with this username (1 GetItem); dots and case do not
    matter, as at login."""
    found = lookups.resolve(lookups.username_key(addressing.unameview(username)))
    if found is None:
        raise UserNotFound()
    return found.user


def quota_allowed(user: UserItem) -> int:
    return int(user.quota or settings().default_quota)


_FLAGS = ("encryptMessages", "encryptForwarded", "disabled", "suspended", "uploadSentMessages")
_PLAIN_FIELDS = ("name", "language", *_FLAGS)
# Absent from the item when empty: the default applies (limits) or there is nothing
# (lists, metadata).
_CLEARABLE_FIELDS = ("targets", "fromWhitelist", "metaData", "internalData", *LIMIT_FIELDS)


def password_source(user: UserItem, password: str) -> str | None:
    """Which of the account's passwords `password` is: "master", "temporary" (from a
    reset, while it is valid), "not yet valid" (a reset's before its `validAfter`), or
    None."""
    if user.password and passwords.verify_password(password, user.password):
        return "master"
    temp = user.tempPassword.as_dict() if user.tempPassword else None
    if temp and temp.get("expires", 0) > now_ms() and \
            passwords.verify_password(password, temp["hash"]):
        return "not yet valid" if temp.get("validAfter", 0) > now_ms() else "temporary"
    return None


def has_live_temporary_password(user: UserItem) -> bool:
    """A password reset gave the account a temporary password that is valid now."""
    temp = user.tempPassword.as_dict() if user.tempPassword else None
    now = now_ms()
    return bool(temp) and temp.get("expires", 0) > now >= temp.get("validAfter", 0)


def _check_existing_password(user: UserItem, password: str, audit: Audit) -> None:
    """`existingPassword`: the account password or the temporary one, since a person
    who got a reset knows only that. An account without any password has nothing to
    check against, so the check is skipped (as in WildDuck). A failure is logged."""
    if not user.password and not has_live_temporary_password(user):
        return
    if password_source(user, password) not in ("master", "temporary"):
        authlog.record(user.id, "password change", audit, result="fail")
        raise AuthFailed("Password verification failed")


def update(params: UpdateUser) -> None:
    """Partial update: only the fields present in the request change."""
    user = get(params.user)
    given = _given(params)
    if params.existingPassword is not None:
        _check_existing_password(user, params.existingPassword, Audit(params.sess, params.ip))
    guard = _check_encryption_update(params, user)
    actions: list[Any] = []
    for name in _PLAIN_FIELDS:
        if name in given:
            actions.append(getattr(UserItem, name).set(getattr(params, name)))
    if "quota" in given:
        # 0 or null mean "the default": no attribute at all, which is what the upload's
        # quota condition expects of an account without its own quota.
        actions.append(UserItem.quota.set(params.quota) if params.quota
                       else UserItem.quota.remove())
    for name in ("retention", "recipients", "forwards"):
        if name in given:
            actions.append(getattr(UserItem, name).set(getattr(params, name) or 0))
    if "filters" in given:
        actions.append(UserItem.filters.set(params.filters) if params.filters
                       else UserItem.filters.remove())
    actions += set_or_remove(UserItem, _CLEARABLE_FIELDS, params, given)
    if "spamLevel" in given:
        actions.append(UserItem.spamLevel.set(
            DEFAULT_SPAM_LEVEL if params.spamLevel is None else params.spamLevel))
    if "featureFlags" in given:
        actions.append(UserItem.featureFlags.set(_flags_on(params)))
    if params.disable2fa:
        actions += [UserItem.enabled2fa.set([]), UserItem.totp.remove()]
    if "tags" in given:
        tags = params.tags or []
        actions += [UserItem.tags.set(tags), UserItem.tagsview.set([t.lower() for t in tags])]
    if "disabledScopes" in given:
        actions.append(UserItem.disabledScopes.set(params.disabledScopes or []))
    if "pubKey" in given:
        key_info = _key_info(params.pubKey)
        actions += [UserItem.pubKey.set(params.pubKey), UserItem.keyInfo.set(key_info)] \
            if params.pubKey else [UserItem.pubKey.remove(), UserItem.keyInfo.remove()]
    password_changed = "password" in given
    if password_changed:
        password_hash = _password_hash(params.password, params.hashedPassword)
        actions += [UserItem.password.set(password_hash),
                    UserItem.hasPassword.set(password_hash is not None),
                    UserItem.passwordChanged.set(now_ms()),
                    UserItem.tempPassword.remove(),
                    UserItem.requirePasswordChange.set(False)]
    if not actions:
        return
    audit = Audit(params.sess, params.ip)
    entries = forwards_added(user.id, params.targets or [], list(user.targets or []), audit) \
        if "targets" in given else []
    if password_changed:
        entries.append(authlog.entry(user.id, "password change", audit, result="success"))
    try:
        if not entries:  # a plain UpdateItem costs half a transaction
            _update_live(user, actions, guard)
        else:
            update_logged(user, actions, entries, condition=guard)
    except UserNotFound:
        if guard is None:
            raise
        # Gone, or the other encryption field changed meanwhile: say which.
        _check_encryption_update(params, get(params.user))
        raise Conflict() from None


def _update_live(user: UserItem, actions: list[Any], condition: Condition | None) -> None:
    guard = UserItem.kind.exists() if condition is None else UserItem.kind.exists() & condition
    try:
        user.update(actions=actions, condition=guard)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise UserNotFound() from None
        raise


def update_logged(user: UserItem, actions: list[Any], entries: list[AuthlogItem],
                  condition: Condition | None = None) -> None:
    """Change a live account and write its authlog entries in one transaction."""
    guard = UserItem.kind.exists() if condition is None else UserItem.kind.exists() & condition

    def build(tx: Transaction) -> None:
        tx.update(user, actions=actions, condition=guard, label="user")
        for entry in entries:
            tx.save(entry)

    run(build, errors={"user": UserNotFound})


def forwards_added(user_id: str, targets: list[str], before: list[str],
                   audit: Audit) -> list[AuthlogItem]:
    """A `user forward added` entry per target that is new, as WildDuck logs them: a new
    forward is how a taken-over account leaks its mail, so it is on the record."""
    return [authlog.entry(user_id, "user forward added", audit, result="success",
                          target=target, protocol="API")
            for target in targets if target not in before]


@dataclass(frozen=True)
class Deleted:
    """What a deletion scheduled: the purge task, when it may run (epoch s) and how
    many addresses were freed."""

    task: str
    delete_after: int
    addresses: int


def delete(user_id: str, audit: Audit, delete_after_ms: int | None = None) -> Deleted:
    """Make the account unusable at once and free its names; data is purged later: once
    `delete_after_ms` (epoch ms; 0: at the next purge) has passed, by default after
    PURGE_DELAY_S. Until then the account can be restored.

    The user item stays (without `kind`, with `deleted`), its mailboxes and their
    lookups go, and a purge task is queued in the same transaction, so the deferred
    cleanup can never be forgotten. Reads of mail prove the account through the mailbox
    item they already read (docs/architecture.md, "Deletion"), so no mailbox may
    outlive the account: INBOX and as many others as fit go in that transaction, the
    rest right after (and the hourly purge finishes a deletion cut short).
    """
    def build(tx: Transaction) -> tuple[list[MailboxItem], list[AddressItem], Deleted]:
        user = get(user_id)
        boxes = sorted(mailbox_store.list_for_user(user_id), key=lambda box: box.path != "INBOX")
        addresses = list(AddressItem.query(user_id))
        tx.update(user, actions=[UserItem.kind.remove(), UserItem.deleted.set(now_ms())],
                  condition=UserItem.kind.exists(), label="user")
        tx.delete(LookupItem(key=lookups.username_key(user.unameview)))
        now = time.time()
        purge_at = int(now) + PURGE_DELAY_S if delete_after_ms is None else \
            max(int(now), delete_after_ms // 1000)
        task = TaskItem(kind=PURGE_USER, id=new_id(now), user=user_id,
                        data={"username": user.username, **restore.snapshot(boxes)},
                        created=int(now * 1000), notBefore=purge_at)
        tx.save(task)
        tx.save(authlog.entry(user_id, "delete user", audit, result="success"))
        counters.add(tx, counters.USERS, -1)
        now_boxes = boxes[:(MAX_ITEMS - len(tx)) // 2]  # INBOX always fits
        retire_mailboxes(tx, user_id, now_boxes)
        now_addresses = addresses[:(MAX_ITEMS - len(tx) - 1) // 2]
        _release_addresses(tx, user_id, now_addresses)
        return (boxes[len(now_boxes):], addresses[len(now_addresses):],
                Deleted(task.id, int(task.notBefore), len(addresses)))

    rest_boxes, rest_addresses, deleted = run(build, errors={"user": UserNotFound})
    # The account is already unusable; a large one frees the rest right after, a
    # transaction per group. The purge task finishes whatever a failure here leaves.
    for group in chunked(rest_boxes, MAX_ITEMS // 2):
        run(partial(retire_mailboxes, user_id=user_id, boxes=group))
    for group in chunked(rest_addresses, (MAX_ITEMS - 1) // 2):
        run(partial(_release_addresses, user_id=user_id, addresses=group))
    return deleted


def retire_mailboxes(tx: Transaction, user_id: str, boxes: list[MailboxItem]) -> None:
    """Remove mailbox items and their lookups of a deleted account (its messages stay
    for the purge). Conditioned on the path read (or on the item being gone already),
    so a rename that slipped in before the account went makes the transaction read
    again rather than leave a lookup behind."""
    for box in boxes:
        tx.delete(box, condition=(MailboxItem.path == box.path) | MailboxItem.id.does_not_exist())
        tx.delete(LookupItem(key=lookups.mailbox_key(user_id, box.path)),
                  condition=(LookupItem.target == box.id) | LookupItem.key.does_not_exist())


def _release_addresses(tx: Transaction, user_id: str, addresses: list[AddressItem]) -> None:
    for address in addresses:
        _release_address(tx, user_id, address)
    counters.add(tx, counters.ADDRESSES, -len(addresses))


def _release_address(tx: Transaction, user_id: str, address: AddressItem) -> None:
    """Free an address of a deleted account and take it out of the admin listing."""
    tx.delete(LookupItem(key=lookups.address_key(address.addrview)),
              condition=LookupItem.user == user_id)
    tx.update(address, actions=[AddressItem.kind.remove()])


def logout(user_id: str, reason: str | None) -> None:
    """Tell every connected client of the account to drop its sessions."""
    def build(tx: Transaction) -> None:
        journal.append(tx, get(user_id), [("LOGOUT", {"reason": reason or "Logout requested"})],
                       condition=UserItem.kind.exists())

    run(build)


def reset_password(user_id: str, audit: Audit,
                   valid_after: int | None = None) -> tuple[str, int]:
    """Issue a temporary password (master scope, usable for 24 h from `valid_after` or
    now) and turn 2FA off: the password and the time (epoch ms) it is valid from."""
    user = get(user_id)
    temporary = new_temporary_password()
    now = now_ms()
    start = max(now, valid_after or 0)
    temp: dict[str, Any] = {
        "hash": passwords.hash_password(temporary, settings().password_hash_profile),
        "created": now, "expires": start + TEMP_PASSWORD_TTL_MS}
    if start > now:
        temp["validAfter"] = start
    update_logged(user, [
        UserItem.tempPassword.set(temp),
        UserItem.requirePasswordChange.set(True),
        UserItem.passwordChanged.set(now),  # revokes the user tokens issued before
        UserItem.enabled2fa.set([]),
        UserItem.totp.remove(),
    ], [authlog.entry(user_id, "reset", audit, result="success")])
    return temporary, start
