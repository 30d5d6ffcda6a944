"""Count AWS API calls (and DynamoDB consumed capacity) made inside a block.

Tests assert call budgets with it and the benchmarks report it. It wraps botocore's
single entry point, so PynamoDB and boto3 calls are both seen.
"""
from __future__ import annotations

import json
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator
from unittest import mock

from botocore.client import BaseClient

_CAPACITY_OPS = {"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem",
                 "DeleteItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems"}


@dataclass
class CallLog:
    calls: list[tuple[str, str]] = field(default_factory=list)
    capacity: float = 0.0
    read_units: float = 0.0  # the parts of `capacity`, as DynamoDB bills them
    write_units: float = 0.0

    def count(self, service: str | None = None, operation: str | None = None) -> int:
        return sum(1 for s, o in self.calls
                   if (service is None or s == service) and (operation is None or o == operation))

    def by_operation(self, service: str = "dynamodb") -> dict[str, int]:
        return dict(Counter(o for s, o in self.calls if s == service))


def _transaction_estimate(params: dict[str, Any]) -> float:
    """Moto does not report transaction capacity: estimate it as DynamoDB bills it,
    2 write units per started KB of each item (1 KB for updates, deletes, checks)."""
    units = 0.0
    for operation in params.get("TransactItems", []):
        size_kb = 1
        if "Put" in operation:
            size_kb = max(1, -(-len(json.dumps(operation["Put"]["Item"])) // 1024))
        units += 2 * size_kb
    return units


def _value_size(value: dict[str, Any]) -> int:
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return len(str(inner).lstrip("-").replace(".", "")) // 2 + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + _value_size(v) for k, v in inner.items())
    return sum(len(str(v)) for v in inner)  # SS, NS, BS


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: attribute names plus values."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def _read_estimate(operation: str, params: dict[str, Any], response: dict[str, Any]) -> float:
    """Moto reports a constant per read call: estimate it as DynamoDB bills reads, per
    started 4 KB (a Query sums its items first), halved when eventually consistent."""
    def units(size: int, consistent: bool) -> float:
        return max(1, -(-size // 4096)) * (1.0 if consistent else 0.5)
    if operation == "GetItem":
        return units(item_size(response.get("Item") or {}), bool(params.get("ConsistentRead")))
    if operation in ("Query", "Scan"):
        return units(sum(item_size(i) for i in response.get("Items", [])),
                     bool(params.get("ConsistentRead")))
    if operation == "BatchGetItem":
        total = 0.0
        for table, items in response.get("Responses", {}).items():
            consistent = bool(params["RequestItems"].get(table, {}).get("ConsistentRead"))
            total += sum(units(item_size(i), consistent) for i in items)
        return total
    return 0.0


@contextmanager
def counting(measure_capacity: bool = False) -> Iterator[CallLog]:
    log = CallLog()
    original = BaseClient._make_api_call

    def wrapper(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        log.calls.append((service, operation))
        if measure_capacity and service == "dynamodb" and operation in _CAPACITY_OPS:
            params = {**params, "ReturnConsumedCapacity": "TOTAL"}
        response = original(client, operation, params)
        if measure_capacity and service == "dynamodb":
            consumed = response.get("ConsumedCapacity")
            if operation in ("GetItem", "Query", "Scan", "BatchGetItem"):
                log.read_units += _read_estimate(operation, params, response)
            elif consumed:
                units = sum(float(entry.get("CapacityUnits", 0))
                            for entry in (consumed if isinstance(consumed, list) else [consumed]))
                if operation == "TransactGetItems":
                    log.read_units += units
                else:
                    log.write_units += units
            elif operation == "TransactWriteItems":
                log.write_units += _transaction_estimate(params)
            log.capacity = log.read_units + log.write_units
        return response

    with mock.patch.object(BaseClient, "_make_api_call", wrapper):
        yield log
