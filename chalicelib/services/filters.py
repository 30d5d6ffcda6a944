"""Message filters: create, read, change, delete, list (per user and for the operator).

A user has at most MAX_FILTERS filters. Creation reads the partition (one Query: the
filters and the account item), refuses past the limit, and commits the filter together
with a bump of the account item's `rev` under the condition that `rev` is still what it
read: two creations racing for the last slot cannot both commit, so the limit is exact
without a counter that other writers (mailbox deletion) would have to keep.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.clock import now_ms
from chalicelib.cursors import decode_cursor, encode_cursor
from chalicelib.errors import FilterNotFound, NoSuchMailbox, TooMany, UserNotFound
from chalicelib.ids import new_id
from chalicelib.addressing import target_type
from chalicelib.services import users
from chalicelib.services.authlog import Audit
from chalicelib.services.authlog import entry as authlog_entry
from chalicelib.store import filters as store
from chalicelib.store import mailboxes as mailbox_store
from chalicelib.store.filters import FilterItem
from chalicelib.store.transact import Transaction, run
from chalicelib.store.users import UserItem

if TYPE_CHECKING:
    from chalicelib.schemas.filters import FilterAction, FilterFields, FilterQuery

MAX_FILTERS = 400
LISTING_SCOPE = "filters:*"
_BOOL_ACTIONS = ("seen", "flag", "delete", "spam")


def allowed_filters(user: UserItem) -> int:
    """The account's own filter limit, or the default."""
    return int(user.filters or 0) or MAX_FILTERS


@dataclass(frozen=True)
class AccountFilters:
    allowed: int
    used: int
    autoreply: bool  # the autoreply is switched on (its dates aside), as GET /users shows


def account_filters(user: UserItem) -> AccountFilters:
    """What GET /users/{user} shows of filters and autoreply (1 Query, ids only)."""
    used, autoreply = store.summary(user.id)
    return AccountFilters(allowed_filters(user), used, autoreply)


def autoreplies_on(user_ids: list[str]) -> set[str]:
    """Which of these accounts have their autoreply switched on (GET /users)."""
    return store.autoreplies_on(user_ids) if user_ids else set()


def _live_user(tx: Transaction, user_id: str) -> None:
    tx.check(UserItem, user_id, condition=UserItem.kind.exists(), label="user")


def _targets(values: list[str]) -> list[dict[str, str]]:
    return [{"id": new_id(), "type": target_type(value) or "mail", "value": value}
            for value in values]


def _check_mailbox(user_id: str, mailbox_id: str) -> None:
    if mailbox_store.get(user_id, mailbox_id) is None:
        raise NoSuchMailbox()


def _query_map(current: dict[str, Any], query: FilterQuery | None) -> dict[str, Any]:
    merged = dict(current)
    for key, value in (query.given() if query else {}).items():
        if value is None or (key == "size" and value == 0):
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _action_map(user_id: str, current: dict[str, Any],
                action: FilterAction | None) -> dict[str, Any]:
    merged = dict(current)
    for key, value in (action.given() if action else {}).items():
        if value is None or (key == "targets" and not value):
            merged.pop(key, None)
        elif key == "targets":
            kept = {t["value"]: t for t in current.get("targets", [])}
            merged[key] = [kept.get(v) or _targets([v])[0] for v in value]
        elif key == "mailbox":
            _check_mailbox(user_id, value)
            merged[key] = value
        else:
            merged[key] = value
    return merged


def create(user_id: str, fields: FilterFields, audit: Audit) -> str:
    query = _query_map({}, fields.query)
    action = _action_map(user_id, {}, fields.action)
    filter_id = new_id()

    def build(tx: Transaction) -> str:
        filters, account = store.partition(user_id)
        allowed = allowed_filters(users.get(user_id))
        if len(filters) >= allowed:
            raise TooMany("Maximum filters limit reached", allowed=allowed)
        rev = int(account.rev) if account and account.rev is not None else None
        item = FilterItem(user=user_id, id=filter_id, name=fields.name, criteria=query,
                          action=action, disabled=bool(fields.disabled),
                          metaData=fields.metaData, created=now_ms())
        _live_user(tx, user_id)
        tx.save(item, condition=FilterItem.id.does_not_exist(), label="filter")
        tx.update(store.account_item(user_id), actions=[FilterItem.rev.add(1)],
                  condition=store.same_rev(rev), label="rev")
        tx.save(authlog_entry(user_id, "filter added", audit, filter=filter_id))
        return filter_id

    return run(build, errors={"user": UserNotFound})


def get(user_id: str, filter_id: str) -> FilterItem:
    item = store.get(user_id, filter_id)
    if item is None:
        users.get(user_id)  # which of the two is missing
        raise FilterNotFound()
    return item


def update(user_id: str, filter_id: str, fields: FilterFields) -> None:
    """Change the fields the request names; an empty value removes one. An unchanged
    filter is not written. Each write bumps the filter's `rev` under the condition that
    it is still the one read, so concurrent updates of one filter each apply whole."""
    def build(tx: Transaction) -> None:
        item = get(user_id, filter_id)
        rev = int(item.rev) if item.rev is not None else None
        before = (store.as_dict(item.criteria), store.as_dict(item.action), item.name,
                  item.disabled, item.metaData)
        item.criteria = _query_map(before[0], fields.query)
        item.action = _action_map(user_id, before[1], fields.action)
        if fields.name is not None:
            item.name = fields.name
        if fields.disabled is not None:
            item.disabled = fields.disabled
        if fields.metaData is not None or "metaData" in fields.model_fields_set:
            item.metaData = fields.metaData
        if (item.criteria, item.action, item.name, item.disabled, item.metaData) == before:
            return
        item.rev = (rev or 0) + 1
        tx.save(item, condition=store.same_rev(rev), label="filter")

    run(build)


def delete(user_id: str, filter_id: str) -> None:
    def build(tx: Transaction) -> None:
        get(user_id, filter_id)
        tx.delete(FilterItem(user=user_id, id=filter_id), condition=store.exists(),
                  label="filter")

    run(build, errors={"filter": FilterNotFound})


@dataclass(frozen=True)
class UserFilters:
    filters: list[FilterItem]
    mailbox_paths: dict[str, str]
    allowed: int


def listing(user_id: str) -> UserFilters:
    """A user's filters with the paths of the mailboxes they move mail to and the
    account's limit: the account (1 GetItem), one Query of the filters, one of the
    mailboxes."""
    allowed = allowed_filters(users.get(user_id))
    filters, _ = store.partition(user_id)
    boxes = mailbox_store.list_for_user(user_id)
    return UserFilters(filters, {box.id: box.path for box in boxes}, allowed)


@dataclass(frozen=True)
class AllFilters:
    filters: list[FilterItem]
    next_cursor: str | bool


def listing_all(limit: int, next_token: str | None, forward: str | None) -> AllFilters:
    """Filters of every user, for the operator: a paged Scan (forward-only cursor).
    `forward` keeps filters with a target containing that text."""
    start = decode_cursor(LISTING_SCOPE, next_token).key if next_token else None
    found: list[FilterItem] = []
    while True:
        page, start = store.scan_page(limit - len(found), start)
        found.extend(item for item in page if _forwards_to(item, forward))
        if start is None or len(found) >= limit:
            break
    return AllFilters(found, encode_cursor(LISTING_SCOPE, start, "next") if start else False)


def _forwards_to(item: FilterItem, needle: str | None) -> bool:
    if not needle:
        return True
    targets = store.as_dict(item.action).get("targets") or []
    return any(needle in str(target.get("value", "")) for target in targets)
