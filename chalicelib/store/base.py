"""What every table module shares: table naming, the connection, key extraction.

PynamoDB reads `Meta.table_name` when a model class is created, so table names come
from the settings at import time (tests and the local runner set the environment
before importing the app).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable

from pynamodb.attributes import Attribute
from pynamodb.connection import Connection
from pynamodb.models import Model

from chalicelib.config import settings


def meta(table: str) -> type:
    """A PynamoDB `Meta` class for one of the tables in infra/tables.yaml."""
    config = settings()
    return type("Meta", (), {"table_name": config.table(table), "region": config.region})


@lru_cache(maxsize=1)
def connection() -> Connection:
    """Transactions need an explicit connection; one per process is enough."""
    return Connection(region=settings().region)


def key_of(item: Model, names: list[str]) -> dict[str, Any]:
    """The low-level DynamoDB key (table and index attributes) of a loaded item."""
    key: dict[str, Any] = {}
    attributes: dict[str, Attribute[Any]] = item.get_attributes()
    for name in names:
        attribute = attributes[name]
        key[attribute.attr_name] = {attribute.attr_type: attribute.serialize(getattr(item, name))}
    return key


def set_or_remove(model: type[Model], names: Iterable[str], values: Any,
                  given: set[str]) -> list[Any]:
    """Update actions for the fields a request named: SET to the value it gave, REMOVE
    when that value is empty (an empty value clears a field)."""
    actions: list[Any] = []
    for name in names:
        if name in given:
            value, attribute = getattr(values, name), getattr(model, name)
            actions.append(attribute.set(value) if value else attribute.remove())
    return actions


def as_dict(value: Any) -> dict[str, Any]:
    """A map attribute's value as a plain dict (PynamoDB hands back a MapAttribute or,
    for an item built in code, the dict it was given; None is empty)."""
    if value is None:
        return {}
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)
