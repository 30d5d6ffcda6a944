"""Make in-process moto's TransactWriteItems affordable for tests and benchmarks.

Moto backs up a table before a transaction so it can roll back, but it deep-copies the
whole table (stream records included) once per *operation*: a 98-operation batch on a
mailbox of a few hundred messages copies that table 98 times, and the stream records
that accumulate over a test session make every copy slower. The patch builds one
backup per table per transaction that deep-copies only the items the transaction names
(other items are shared with the live table, which the transaction cannot change) and
shares the stream shard (a rolled back transaction may leave stream records behind,
which no test relies on). Commits and rollbacks otherwise behave as before. Test tooling
only; never shipped.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any
from unittest import mock


def _touched(table: Any, transact_items: list[dict[str, Any]]) -> set[tuple[Any, Any]]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys: set[tuple[Any, Any]] = set()
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        if op.get("TableName") != table.name:
            continue
        key = op.get("Key") or op.get("Item") or {}
        hash_value = DynamoType(key[table.hash_key_attr]) if table.hash_key_attr in key else None
        range_value = (DynamoType(key[table.range_key_attr])
                       if table.range_key_attr and table.range_key_attr in key else None)
        keys.add((hash_value, range_value))
    return keys


def install() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend, "_single_backup_per_transaction", False):
        return
    original = DynamoDBBackend.transact_write_items
    real_deepcopy = copy.deepcopy

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        backups: dict[int, Any] = {}

        def backup(table: Any) -> Any:
            clone = copy.copy(table)
            items: Any = defaultdict(dict)
            items.update(table.items)
            copied: set[Any] = set()
            for hash_value, range_value in _touched(table, transact_items):
                if hash_value not in table.items:
                    continue
                partition = table.items[hash_value]
                if not isinstance(partition, dict):
                    items[hash_value] = real_deepcopy(partition)
                    continue
                if hash_value not in copied:  # one private copy of each touched partition
                    items[hash_value] = dict(partition)
                    copied.add(hash_value)
                if range_value in partition:
                    items[hash_value][range_value] = real_deepcopy(partition[range_value])
            clone.items = items
            return clone

        def deepcopy(value: Any, memo: Any = None) -> Any:
            if not isinstance(value, Table):
                return real_deepcopy(value, memo)
            if id(value) not in backups:
                backups[id(value)] = backup(value)
            return backups[id(value)]

        with mock.patch.object(copy, "deepcopy", deepcopy):
            return original(self, transact_items)

    DynamoDBBackend.transact_write_items = transact_write_items
    DynamoDBBackend._single_backup_per_transaction = True
