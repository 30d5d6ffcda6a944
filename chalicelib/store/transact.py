"""Every multi-item write goes through here: labelled operations, retries, limits.

A service describes one attempt as a function that reads what it needs and adds
labelled operations to a `Transaction`; `run` commits it and, when DynamoDB cancels it,
either maps the failed label to a domain error or, for a lost race, waits (exponential
backoff with full jitter) and calls the function again to build the attempt anew from
fresh reads, until the caller's deadline. The deadline comes from the context: the HTTP
edge gives an API request a budget well inside API Gateway's 29 s, background work a
longer one.

Every attempt carries a ClientRequestToken of its own, and the same request is sent
again (same token) when its outcome is unknown: a read timeout or dropped connection
after DynamoDB may have committed it, or DynamoDB saying that attempt is still in
progress. DynamoDB answers a repeated token of a committed transaction (within 10
minutes) with success and changes nothing, so a retried write never meets its own first
attempt as a conflict ("the mailbox exists": the one it just created). botocore's own
retries of a timed-out call re-send the same token too.
"""
from __future__ import annotations

import contextvars
import random
import time
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, TypeVar

from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError
from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.errors import Conflict, DomainError
from chalicelib.store.base import connection

T = TypeVar("T")

MAX_ITEMS = 100  # DynamoDB's limit on operations per TransactWriteItems
API_BUDGET_S = 12.0  # an API request answers long before API Gateway's 29 s cut-off
BACKGROUND_BUDGET_S = 120.0
BASE_DELAY_S = 0.01
MAX_DELAY_S = 0.5
# Cancellation reasons that say "try again", not "your condition is false".
_TRANSIENT = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
              "RequestLimitExceeded", "InternalServerError"}

# An operation that did not fail, or whose condition was false (mapped by its label).
# Any other code (ValidationError, ItemCollectionSizeLimitExceeded) no retry can fix.
_RACE_OR_NONE = {None, "None", "ConditionalCheckFailed"}

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline",
                                                                         default=None)


class TooManyItems(DomainError):
    """A single request would change more items than one transaction can hold."""

    code, default_message = "TooManyItems", "This request changes too many items at once"


class ItemTooLarge(DomainError):
    """The change would make a record larger than DynamoDB stores (400 KB)."""

    code, default_message = "ItemTooLarge", "This change makes the record too large to store"


class OutcomeUnknown(Exception):
    """The transaction may or may not have committed: send the same request again."""


class TransactionFailed(Exception):
    """A cancelled transaction: which labelled operations failed their condition."""

    def __init__(self, failed: set[str], conflict: bool) -> None:
        super().__init__(f"transaction cancelled: {sorted(failed)} conflict={conflict}")
        self.failed = failed
        self.conflict = conflict


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Let the writes inside retry for at most `seconds` from now."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def deadline() -> float:
    """When retries must stop: the context's deadline, else an API-sized budget."""
    return _deadline.get() or time.monotonic() + API_BUDGET_S


def pause(attempt: int, until: float) -> bool:
    """Sleep before retry `attempt` (full jitter); False when the deadline has come."""
    remaining = until - time.monotonic()
    if remaining <= 0:
        return False
    time.sleep(min(remaining, random.uniform(0, min(MAX_DELAY_S, BASE_DELAY_S * 2 ** attempt))))
    return time.monotonic() < until


class Transaction:
    """A TransactWriteItems that remembers a label per operation.

    DynamoDB reports a cancelled transaction as one reason per operation, in request
    order; labels turn that into "the username lookup already existed" so services can
    raise the right domain error.
    """

    def __init__(self, token: str | None = None) -> None:
        self.tx = TransactWrite(connection=connection(), client_request_token=token)
        self._labels: dict[str, list[str]] = {"check": [], "delete": [], "put": [],
                                              "update": []}

    def __len__(self) -> int:
        return sum(len(labels) for labels in self._labels.values())

    def save(self, model: Model, condition: Any = None, label: str = "") -> None:
        self.tx.save(model, condition=condition)
        self._labels["put"].append(label)

    def update(self, model: Model, actions: list[Any], condition: Any = None,
               label: str = "") -> None:
        self.tx.update(model, actions=actions, condition=condition)
        self._labels["update"].append(label)

    def delete(self, model: Model, condition: Any = None, label: str = "") -> None:
        self.tx.delete(model, condition=condition)
        self._labels["delete"].append(label)

    def check(self, model_cls: type[Model], hash_key: Any, range_key: Any = None,
              condition: Any = None, label: str = "") -> None:
        self.tx.condition_check(model_cls, hash_key, range_key=range_key, condition=condition)
        self._labels["check"].append(label)

    def commit(self) -> None:
        if len(self) > MAX_ITEMS:
            raise TooManyItems(f"One change may touch at most {MAX_ITEMS} items "
                               f"(this one needs {len(self)})")
        if not len(self):
            return
        try:
            self.tx._commit()
        except TransactWriteError as error:
            if _outcome_unknown(error):
                raise OutcomeUnknown(str(error)) from error
            order = [*self._labels["check"], *self._labels["delete"], *self._labels["put"],
                     *self._labels["update"]]
            codes = [reason.code if reason else None
                     for reason in error.cancellation_reasons or []]
            if not codes:
                _refuse_oversized(error)
                if error.cause_response_code in {"TransactionConflictException",
                                                 "ThrottlingException",
                                                 "ProvisionedThroughputExceededException"}:
                    raise TransactionFailed(set(), True) from None
                raise
            failed = {label for label, code in zip(order, codes)
                      if code == "ConditionalCheckFailed"}
            conflict = any(code in _TRANSIENT for code in codes)
            if any(code not in _RACE_OR_NONE and code not in _TRANSIENT for code in codes):
                raise  # retrying cannot help: fail now, not after a deadline of attempts
            raise TransactionFailed(failed, conflict) from None


def _refuse_oversized(error: PynamoDBException) -> None:
    """An item over DynamoDB's 400 KB is the request's fault: a 400, never a retry."""
    if (error.cause_response_code == "ValidationException"
            and "size has exceeded" in (error.cause_response_message or "")):
        raise ItemTooLarge() from None


def _outcome_unknown(error: TransactWriteError) -> bool:
    """A timeout or dropped connection (the request may have been applied), or DynamoDB
    still working on an earlier send of this very request (same token)."""
    if isinstance(error.cause, (HTTPClientError, BotoConnectionError)):
        return True  # (their `response` is None, which cause_response_code trips on)
    return error.cause_response_code == "TransactionInProgressException"


def run(build: Callable[[Transaction], T], *,
        errors: Mapping[str, Callable[[], Exception]] | None = None,
        on_retry: Callable[[TransactionFailed], None] | None = None,
        token: Callable[[int], str | None] | None = None) -> T:
    """Build and commit one transaction, retrying lost races until the deadline.

    `build` is called once per attempt with a fresh `Transaction`, reads what it needs
    and returns the value `run` returns after a successful commit; it may raise a domain
    error to stop (a re-read that shows the request can no longer succeed). A failed
    label found in `errors` raises that error at once; any other cancellation (an
    optimistic guard, a transaction conflict, throttling) is retried after a pause,
    and answered `Conflict` when the deadline comes. `on_retry` sees each retried
    failure (to refresh what the next `build` uses). Each attempt gets a fresh
    ClientRequestToken (from `token(attempt)` when given), re-sent unchanged while that
    attempt's outcome is unknown.
    """
    errors = errors or {}
    until = deadline()
    attempt = 0
    while True:
        tx = Transaction((token(attempt) if token else None) or str(uuid.uuid4()))
        value = build(tx)
        try:
            _commit_once(tx, until)
            return value
        except TransactionFailed as failure:
            for label, error in errors.items():  # in the caller's order of precedence
                if label in failure.failed:
                    raise error() from None
            if on_retry is not None:
                on_retry(failure)
            if not pause(attempt, until):
                raise Conflict() from None
            attempt += 1


def _commit_once(tx: Transaction, until: float) -> None:
    """Commit, sending the same request (same token) again while its outcome is
    unknown; past the deadline the error stands (a 500: the write may have happened)."""
    resend = 0
    while True:
        try:
            tx.commit()
            return
        except OutcomeUnknown:
            if not pause(resend, until):
                raise
            resend += 1


_TRANSIENT_WRITE = {"TransactionConflictException", "ThrottlingException",
                    "ProvisionedThroughputExceededException", "RequestLimitExceeded"}


def retrying(call: Callable[[], T]) -> T:
    """A single write that may meet a transaction in flight on its item (DynamoDB then
    refuses it with TransactionConflict): retried like a transaction until the
    deadline. Other errors, a failed condition among them, pass through."""
    until = deadline()
    attempt = 0
    while True:
        try:
            return call()
        except PynamoDBException as error:
            _refuse_oversized(error)
            if error.cause_response_code not in _TRANSIENT_WRITE:
                raise
            if not pause(attempt, until):
                raise Conflict() from None
            attempt += 1


def updated(item: Model, actions: list[Any], condition: Any) -> bool:
    """One conditional UpdateItem (retried like `retrying`); False when the condition
    failed, which for these callers means the item is gone."""
    try:
        retrying(lambda: item.update(actions=actions, condition=condition))
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def chunked(items: list[T], per_transaction: int) -> Iterator[list[T]]:
    """Split work that may exceed one transaction; each piece must stand on its own."""
    step = max(1, min(per_transaction, MAX_ITEMS))
    for start in range(0, len(items), step):
        yield items[start:start + step]
