"""Idempotency keys: a create retried with the same key answers as the first time.

API Gateway and HTTP clients retry a request whose answer they did not see; for a
create that means a second account attempt or a second copy of a message. A client
that sends `Idempotency-Key` gets, within 24 hours, the first answer again. The record
is written in the same transaction as the thing it records, so "created" and
"recorded" cannot disagree, and two concurrent requests with one key store one result:
the loser's transaction fails on the record and it answers with the winner's result.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from chalicelib.errors import DomainError, InputValidationError
from chalicelib.store.base import as_dict
from chalicelib.store import keys
from chalicelib.store.transact import Transaction

TTL_S = 24 * 3600
MAX_KEY_LENGTH = 255
HEADER = "Idempotency-Key"


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "IdempotencyKeyReused"
    default_message = "This Idempotency-Key was used with different parameters"


class Replayed(Exception):
    """The key was recorded by a concurrent request while this one was working."""


@dataclass(frozen=True)
class Claim:
    key: str
    fingerprint: str


def _digest(value: Any) -> str:
    def default(item: Any) -> str:
        if isinstance(item, (bytes, bytearray)):
            return "sha256:" + hashlib.sha256(item).hexdigest()
        return str(item)
    text = json.dumps(value, sort_keys=True, default=default, ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def claim(operation: str, caller: str, key: str | None,
          params: Mapping[str, Any]) -> Claim | None:
    """The claim a request makes with its key (None without one). The key is scoped by
    operation and caller; `params` fingerprint the request so a reused key with other
    parameters is refused rather than answered with an unrelated result."""
    if key is None or key == "":
        return None
    if len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise InputValidationError({HEADER: f'"{HEADER}" must be 1 to {MAX_KEY_LENGTH} '
                                            "printable ASCII characters"})
    digest = hashlib.sha256(f"{operation}\0{caller}\0{key}".encode("ascii")).hexdigest()
    return Claim(keys.idempotency_key(digest), _digest(dict(params)))


def previous(found: Claim) -> dict[str, Any] | None:
    """The recorded result of the first request with this key, if any."""
    item = keys.get_live(found.key, int(time.time()))
    if item is None:
        return None
    data = as_dict(item.data)
    if data.get("fingerprint") != found.fingerprint:
        raise IdempotencyKeyReused()
    return {name: _plain(value) for name, value in dict(data.get("result") or {}).items()}


def _plain(value: Any) -> Any:
    """DynamoDB gives numbers back as Decimal; results hold ids, sizes and uids."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def record(tx: Transaction, found: Claim | None, result: dict[str, Any]) -> None:
    """Add the record of `result` to the transaction that produces it."""
    if found is not None:
        keys.record_once(tx, found.key, {"fingerprint": found.fingerprint, "result": result},
                         int(time.time()), TTL_S)
