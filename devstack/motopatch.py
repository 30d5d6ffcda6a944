"""Make moto affordable for a working day: tests, benchmarks and the local stack.

Moto is built for short test runs; the local stack keeps one moto for hours. Each patch
below fixes one way it grows or slows, or one DynamoDB behaviour the API relies on.
Local tooling only; never shipped.

- **One backup per transaction.** Moto backs up a table before a transaction so it
  can roll back, but it deep-copies the whole table once per *operation*: a
  98-operation batch on a mailbox of a few hundred messages copied that table 98
  times. The patch builds one backup per table per transaction that deep-copies only
  the items the transaction names (other items are shared with the live table, which
  the transaction cannot change) and shares the stream shard, pointed back at the live
  table after a rollback. Commits and rollbacks otherwise behave as before.
- **No instance tracking.** Every moto model object (each item version, each backup
  copy, each stream record, each S3 key ever written) was appended to a class-level
  list for moto's dashboard and never released: 1,000 ordinary requests kept some
  3,000 dead tables and 10,000 dead items alive. Only SES's sent messages stay
  tracked: `make sent` lists them through moto's API (devstack/sent.py).
- **Bounded streams.** Moto keeps every stream record of a table forever, and every
  shard iterator it ever handed out. Iterators now expire after 15 minutes, as in
  DynamoDB; records every live iterator of their shard has passed are dropped, and a
  shard keeps at most `LOCAL_STREAM_RECORDS` records (default 5,000) whether read or
  not. A reader whose position was trimmed continues at the oldest record kept. Each
  record is kept pickled (a few KB instead of some 16 KB of dicts for a message with
  both images, and nothing for the garbage collector to walk) and unpickled when read.
- **Queries read their partition.** Moto answered every Query by sorting all the items
  of the table and then filtering them, so a listing slowed down as the tables grew
  over the day. A Query on the table or a local index now considers only the items of
  its partition, and one on a global index filters the items without sorting them all
  first (the matches are sorted, as before). Projecting an index's attributes converted
  the whole item once per projected attribute (20 times for a message in a listing);
  a projection of top-level attributes now picks them from the item.
- **Plain JSON for reads.** Moto serializes each answer by walking the service's
  response shapes, some 4 ms per message item: a page of 50 messages spent 200 ms
  there. Query, Scan, GetItem and BatchGetItem answers are already DynamoDB JSON, and
  are now written with `json.dumps` (any answer it cannot write goes the usual way).
- **ClientRequestToken.** DynamoDB answers a TransactWriteItems repeated with the
  token of one that succeeded in the last 10 minutes with success, changing nothing
  (botocore re-sends the same token when it retries a timed-out call). Moto ignored
  the token and ran the retry again, whose conditions then failed on the first
  attempt's own writes. The patch remembers the tokens of committed transactions.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import pickle
import threading
import time
from collections import OrderedDict, defaultdict
from typing import Any
from unittest import mock

ITERATOR_LIFETIME_S = 15 * 60  # DynamoDB Streams shard iterators expire after 15 minutes
TOKEN_WINDOW_S = 10 * 60  # DynamoDB's idempotency window for ClientRequestToken
# Most records a stream shard keeps (read at each record, so tests can lower it).
stream_records = int(os.environ.get("LOCAL_STREAM_RECORDS", "5000"))


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
    """Apply every patch once per process (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_devstack_patched", False):
        return
    _single_backup_per_transaction()
    _untracked_models()
    _bounded_streams()
    _idempotent_transactions()
    _partition_queries()
    _fast_read_responses()
    DynamoDBBackend._devstack_patched = True


def _single_backup_per_transaction() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

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

        try:
            with mock.patch.object(copy, "deepcopy", deepcopy):
                return original(self, transact_items)
        finally:
            for clone in backups.values():  # a rollback made the clone the live table
                shard = getattr(clone, "stream_shard", None)
                if shard is not None and self.tables.get(clone.name) is clone:
                    shard.table = clone  # else the shard keeps the discarded table alive

    DynamoDBBackend.transact_write_items = transact_write_items


def _untracked_models() -> None:
    from moto.core import model_instances
    from moto.core.common_models import BaseModel

    from moto.ses.models import RawMessage

    def untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
        instance = object.__new__(cls)
        if cls is RawMessage:  # what `make sent` lists (devstack/sent.py); few and small
            RawMessage.instances_tracked.append(instance)  # type: ignore[attr-defined]
        return instance

    BaseModel.__new__ = staticmethod(untracked_new)  # type: ignore[method-assign,assignment]
    model_instances.reset_model_data()  # drop what was tracked before the patch


def _bounded_streams() -> None:
    from moto.dynamodb.models.table import StreamRecord, StreamShard
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

    def trim(shard: Any, keep_from: int) -> None:
        """Drop the records before sequence number `keep_from`."""
        drop = min(len(shard.items), keep_from - shard.starting_sequence_number)
        if drop > 0:
            del shard.items[:drop]
            shard.starting_sequence_number += drop

    original_add = StreamShard.add

    def add(self: Any, old: Any, new: Any) -> None:
        original_add(self, old, new)
        if self.items:
            record = self.items[-1]
            record.packed = pickle.dumps(record.__dict__.pop("record"), pickle.HIGHEST_PROTOCOL)
        limit = stream_records
        if len(self.items) > limit + max(1, limit // 10):  # trim in steps, not per record
            trim(self, self.starting_sequence_number + len(self.items) - limit)

    def get(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
        start = max(start, self.starting_sequence_number) - self.starting_sequence_number
        return [record.to_json() for record in self.items[start:start + quantity]]

    original_init = ShardIterator.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.created = time.monotonic()

    def prune(backend: Any) -> None:
        """Forget expired iterators, then drop records no live iterator can reach."""
        iterators: dict[str, Any] = backend.shard_iterators
        cutoff = time.monotonic() - ITERATOR_LIFETIME_S
        for arn in [arn for arn, it in iterators.items()
                    if getattr(it, "created", 0) < cutoff]:
            del iterators[arn]
        lowest: dict[int, tuple[Any, int]] = {}
        for iterator in iterators.values():
            shard = iterator.stream_shard
            seen = lowest.get(id(shard))
            if seen is None or iterator.sequence_number < seen[1]:
                lowest[id(shard)] = (shard, iterator.sequence_number)
        for shard, position in lowest.values():
            trim(shard, position)

    def expired(arn: str) -> Exception:
        from moto.core.exceptions import JsonRESTError
        return JsonRESTError("ExpiredIteratorException",
                             f"Iterator expired or unknown: {arn[:60]}...")

    original_get_iterator = DynamoDBStreamsBackend.get_shard_iterator

    def get_shard_iterator(self: Any, *args: Any, **kwargs: Any) -> Any:
        iterator = original_get_iterator(self, *args, **kwargs)
        prune(self)
        return iterator

    def get_records(self: Any, iterator_arn: str, limit: int) -> dict[str, Any]:
        iterator = self.shard_iterators.get(iterator_arn)
        if iterator is None:
            raise expired(iterator_arn)
        result: dict[str, Any] = iterator.get(limit)
        prune(self)
        return result

    def to_json(self: Any) -> dict[str, Any]:
        packed = self.__dict__.get("packed")
        return pickle.loads(packed) if packed is not None else self.record

    StreamRecord.to_json = to_json
    StreamShard.add = add
    StreamShard.get = get
    ShardIterator.__init__ = init
    DynamoDBStreamsBackend.get_shard_iterator = get_shard_iterator
    DynamoDBStreamsBackend.get_records = get_records


def _idempotent_transactions() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.transact_write_items

    def transact_write_items(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return original(self)
        backend = self.dynamodb_backend
        seen: OrderedDict[str, tuple[float, str, Any]] = backend.__dict__.setdefault(
            "_devstack_tokens", OrderedDict())
        now = time.monotonic()
        while seen and next(iter(seen.values()))[0] < now - TOKEN_WINDOW_S:
            seen.popitem(last=False)
        fingerprint = hashlib.sha256(json.dumps(self.body["TransactItems"], sort_keys=True,
                                                default=str).encode()).hexdigest()
        if token in seen:
            _, known, answer = seen[token]
            if known != fingerprint:
                raise JsonRESTError("IdempotentParameterMismatchException",
                                    "The request uses the same client token as a previous, "
                                    "but non-identical request.")
            return answer
        answer = original(self)  # raises when cancelled: only commits are remembered
        seen[token] = (now, fingerprint, answer)
        return answer

    DynamoHandler.transact_write_items = transact_write_items


_query_scope = threading.local()  # the candidates of the Query running on this thread


def _partition_queries() -> None:
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    original_all_items = Table.all_items
    original_query = Table.query

    def all_items(self: Any) -> Any:
        scope = getattr(_query_scope, "items", None)
        if scope is not None and scope[0] is self:
            return list(scope[1])
        return original_all_items(self)

    def candidates(table: Any, hash_key: Any, index_name: str | None,
                   hash_conditions: list[tuple[str, Any]] | None) -> list[Any]:
        """The partition's items for a Query on the table or a local index (same hash
        key), else every item unsorted (Query sorts what matches)."""
        local = index_name is None or any(index.name == index_name for index in table.indexes)
        if local:
            value = hash_key
            for name, condition in hash_conditions or []:
                if name == table.hash_key_attr:
                    value = condition
            if value is not None:
                partition = table.items.get(value)
                if partition is None:
                    return []
                return list(partition.values()) if isinstance(partition, dict) else [partition]
        return [item for partition in table.items.values()
                for item in (partition.values() if isinstance(partition, dict) else [partition])]

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        items = candidates(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
        previous = getattr(_query_scope, "items", None)
        _query_scope.items = (self, items)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _query_scope.items = previous

    Table.all_items = all_items
    Table.query = query

    original_project = Item.project

    def project(self: Any, projection_expressions: list[list[str]]) -> Any:
        if any(len(path) != 1 for path in projection_expressions):
            return original_project(self, projection_expressions)  # nested paths
        names = [path[0] for path in projection_expressions]
        return Item(hash_key=self.hash_key, range_key=self.range_key,
                    attrs={name: self.attrs[name] for name in names if name in self.attrs})

    Item.project = project


def _fast_read_responses() -> None:
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoHandler

    def plain(original: Any) -> Any:
        def handler(self: Any) -> Any:
            answer = original(self)
            if isinstance(answer, ActionResult) and isinstance(answer.result, dict):
                try:
                    return json.dumps(answer.result)
                except (TypeError, ValueError):  # bytes, dates: the shape serializer's job
                    return answer
            return answer
        return handler

    for name in ("query", "scan", "get_item", "batch_get_item"):
        setattr(DynamoHandler, name, plain(getattr(DynamoHandler, name)))
