"""The autoreply of an account: settings, and the rules that decide whether to send one.

Kept on the account item of the filters partition (store/filters.py), so delivery gets
it with the filters in the same Query. Off by default.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.clock import now_ms
from chalicelib.errors import UserNotFound
from chalicelib.ids import new_id
from chalicelib.services import users
from chalicelib.store import filters as store
from chalicelib.store.filters import FilterItem
from chalicelib.store.transact import Transaction, run
from chalicelib.store.users import UserItem

if TYPE_CHECKING:
    from chalicelib.schemas.autoreply import UpdateAutoreply

FIELDS = ("status", "name", "subject", "text", "html", "start", "end")


@dataclass(frozen=True)
class Autoreply:
    status: bool = False
    name: str = ""
    subject: str = ""
    text: str = ""
    html: str = ""
    start: int = 0  # epoch ms; 0: no bound
    end: int = 0
    created: int = 0

    def active(self, at_ms: int) -> bool:
        """On, and `at_ms` inside [start, end] (either bound may be absent)."""
        return self.status and (not self.start or self.start <= at_ms) \
            and (not self.end or at_ms <= self.end)


def from_item(account: FilterItem | None) -> Autoreply:
    return from_map(account.autoreply if account is not None else None)


def from_map(value: Any) -> Autoreply:
    """The settings as stored (a map attribute, or None: off)."""
    values = store.as_dict(value)
    return Autoreply(status=bool(values.get("status", False)),
                     **{k: str(values.get(k) or "") for k in ("name", "subject", "text", "html")},
                     **{k: int(values.get(k) or 0) for k in ("start", "end", "created")})


def changes(given: Any, fields_set: set[str]) -> dict[str, Any]:
    """What an update gives: the fields set and not null. Emptying `text` empties
    `html` too unless that is given, and the other way round (WildDuck does so, so
    no stale alternative is left behind)."""
    found = {name: getattr(given, name) for name in FIELDS
             if name in fields_set and getattr(given, name) is not None}
    for one, other in (("text", "html"), ("html", "text")):
        if found.get(one) == "" and other not in fields_set:
            found[other] = ""
    return found


def get(user_id: str) -> Autoreply:
    _, account = store.partition(user_id)
    if account is None or account.autoreply is None:
        users.get(user_id)
    return from_item(account)


def update(params: UpdateAutoreply) -> str:
    """Merge the given fields into the stored settings (one transaction, with the account
    proved live); returns the autoreply's id (given with the first settings, kept)."""
    given = changes(params, params.model_fields_set)

    def build(tx: Transaction) -> str:
        _, account = store.partition(params.user)
        current = store.as_dict(account.autoreply) if account is not None else {}
        rev = int(account.rev) if account is not None and account.rev is not None else None
        merged = {**current, **given, "created": now_ms(), "id": current.get("id") or new_id()}
        tx.check(UserItem, params.user, condition=UserItem.kind.exists(), label="user")
        # Guarded by `rev` (bumped here and by filter creation) so two partial updates
        # never lose each other's fields.
        tx.update(store.account_item(params.user),
                  actions=[FilterItem.autoreply.set(merged), FilterItem.rev.add(1)],
                  condition=store.same_rev(rev), label="account")
        return str(merged["id"])

    return run(build, errors={"user": UserNotFound})


def delete(user_id: str) -> None:
    users.get(user_id)
    store.account_item(user_id).update(actions=[FilterItem.autoreply.remove()])
