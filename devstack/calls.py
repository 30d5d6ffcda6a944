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
            if consumed:
                for entry in consumed if isinstance(consumed, list) else [consumed]:
                    log.capacity += float(entry.get("CapacityUnits", 0))
            elif operation == "TransactWriteItems":
                log.capacity += _transaction_estimate(params)
        return response

    with mock.patch.object(BaseClient, "_make_api_call", wrapper):
        yield log
