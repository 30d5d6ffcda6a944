"""What every table module shares: table naming, the connection, transactions.

PynamoDB reads `Meta.table_name` when a model class is created, so table names come
from the settings at import time (tests and the local runner set the environment
before importing the app).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.config import settings


def meta(table: str) -> type:
    """A PynamoDB `Meta` class for one of the tables in infra/tables.yaml."""
    config = settings()
    return type("Meta", (), {"table_name": config.table(table), "region": config.region})


@lru_cache(maxsize=1)
def connection() -> Connection:
    """Transactions need an explicit connection; one per process is enough."""
    return Connection(region=settings().region)


class TransactionFailed(Exception):
    """A cancelled transaction: which labelled operations failed their condition."""

    def __init__(self, failed: set[str], conflict: bool) -> None:
        super().__init__(f"transaction cancelled: {sorted(failed)} conflict={conflict}")
        self.failed = failed
        self.conflict = conflict


class Transaction:
    """A TransactWriteItems that remembers a label per operation.

    DynamoDB reports a cancelled transaction as one reason per operation, in request
    order; labels turn that into "the username lookup already existed" so services can
    raise the right domain error.
    """

    def __init__(self) -> None:
        self.tx = TransactWrite(connection=connection())
        self._labels: dict[str, list[str]] = {"check": [], "delete": [], "put": [],
                                              "update": []}

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
        try:
            self.tx._commit()
        except TransactWriteError as error:
            order = [*self._labels["check"], *self._labels["delete"], *self._labels["put"],
                     *self._labels["update"]]
            codes = [reason.code if reason else None for reason in error.cancellation_reasons]
            if not codes:
                raise
            failed = {label for label, code in zip(order, codes)
                      if code == "ConditionalCheckFailed"}
            conflict = any(code == "TransactionConflict" for code in codes)
            raise TransactionFailed(failed, conflict) from None


def key_of(item: Model, names: list[str]) -> dict[str, Any]:
    """The low-level DynamoDB key (table and index attributes) of a loaded item."""
    key: dict[str, Any] = {}
    attributes: dict[str, Attribute[Any]] = item.get_attributes()
    for name in names:
        attribute = attributes[name]
        key[attribute.attr_name] = {attribute.attr_type: attribute.serialize(getattr(item, name))}
    return key
