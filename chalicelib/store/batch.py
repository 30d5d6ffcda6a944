"""Reading items of several tables at once: one BatchGetItem (more only past 100 keys or
when DynamoDB returns unprocessed keys)."""
from __future__ import annotations

from typing import Any, Sequence

from pynamodb.models import Model

from chalicelib.store.base import connection


def batch_get(requests: Sequence[tuple[type[Model], tuple[Any, ...]]],
              consistent: bool = True) -> list[Model | None]:
    """Read items of several tables in one BatchGetItem (more only past 100 keys or when
    DynamoDB returns unprocessed keys). Results come back in request order, None for
    items that do not exist."""
    conn = connection()
    wanted: dict[str, list[dict[str, Any]]] = {}
    slots: dict[tuple[str, str], list[int]] = {}
    for index, (model, key) in enumerate(requests):
        table = model.Meta.table_name
        serialized = _key_of(model, key)
        marker = (table, _marker(serialized))
        if marker not in slots:
            wanted.setdefault(table, []).append(serialized)
        slots.setdefault(marker, []).append(index)
    results: list[Model | None] = [None] * len(requests)
    pending = [(table, keys[start:start + 100]) for table, keys in wanted.items()
               for start in range(0, len(keys), 100)]
    request: dict[str, Any] = {}
    while pending or request:
        while pending and sum(len(v["Keys"]) for v in request.values()) < 100:
            table, keys = pending.pop()
            room = 100 - sum(len(v["Keys"]) for v in request.values())
            if len(keys) > room:
                pending.append((table, keys[room:]))
                keys = keys[:room]
            entry = request.setdefault(table, {"Keys": [], "ConsistentRead": consistent})
            entry["Keys"].extend(keys)
        response = conn.client.batch_get_item(RequestItems=request)
        for table, items in response.get("Responses", {}).items():
            model = _model_for(requests, table)
            key_names = _key_names(model)
            for raw in items:
                marker = (table, _marker({name: raw[name] for name in key_names}))
                for index in slots.get(marker, []):
                    results[index] = model.from_raw_data(raw)
        request = response.get("UnprocessedKeys") or {}
    return results


def _key_names(model: type[Model]) -> list[str]:
    names = [model._hash_keyname]
    if model._range_keyname:
        names.append(model._range_keyname)
    return [model.get_attributes()[name].attr_name for name in names]


def _key_of(model: type[Model], key: tuple[Any, ...]) -> dict[str, Any]:
    attributes = model.get_attributes()
    serialized: dict[str, Any] = {}
    names = [model._hash_keyname] + ([model._range_keyname] if model._range_keyname else [])
    for name, value in zip(names, key):
        attribute = attributes[name]
        serialized[attribute.attr_name] = {attribute.attr_type: attribute.serialize(value)}
    return serialized


def _marker(key: dict[str, Any]) -> str:
    return repr(sorted((name, sorted(value.items())) for name, value in key.items()))


def _model_for(requests: Sequence[tuple[type[Model], tuple[Any, ...]]],
               table: str) -> type[Model]:
    for model, _ in requests:
        if model.Meta.table_name == table:
            return model
    raise KeyError(table)
