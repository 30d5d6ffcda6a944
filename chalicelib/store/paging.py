"""Cursor paging over a DynamoDB Query, in either direction.

A page costs one Query of `limit + 1` items when no filter applies (the extra item says
whether another page exists). With a filter DynamoDB counts items before filtering, so
the query continues until the page is full or the partition is exhausted.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Any, Callable, Generic, TypeVar

from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib.cursors import Cursor, encode_cursor
from chalicelib.store.base import key_of

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | bool
    previous_cursor: str | bool


def query_page(
    model: type[M],
    hash_key: Any,
    *,
    scope: str,
    key_names: list[str],
    limit: int,
    cursor: Cursor | None = None,
    forward: bool = True,
    index: str | None = None,
    range_condition: Condition | None = None,
    filter_condition: Condition | None = None,
    probe: bool = True,
    total_hint: int | None = None,
    keep: Callable[[M], bool] | None = None,
) -> Page[M]:
    """Read one page in listing order (`forward` is the order of the first page).

    `probe=False` (unfiltered queries only) reads exactly `limit` items and takes
    DynamoDB's LastEvaluatedKey as "there may be more": a page then costs the same
    whether the listing has `limit` items or millions, at the price of a possibly empty
    last page when the items end exactly at a page edge. `total_hint` (a counter of the
    listing's size) avoids that on a first page that already holds everything.

    `keep` drops items in code, for conditions DynamoDB cannot express (membership in a
    set read beforehand); the Query reads on until the page is full, so a dropped item
    costs its read and nothing else. Cursors are item keys, so pages stay stable.
    """
    backwards = cursor is not None and cursor.direction == "previous"
    source = model if index is None else getattr(model, index)
    exact = not probe and filter_condition is None and keep is None
    query_kwargs: dict[str, Any] = {
        "scan_index_forward": forward != backwards,
        "limit": limit if exact else limit + 1,
        "last_evaluated_key": cursor.key if cursor else None,
    }
    if filter_condition is None:
        query_kwargs["page_size"] = query_kwargs["limit"]
    else:
        query_kwargs["filter_condition"] = filter_condition
        query_kwargs["page_size"] = max(limit + 1, 50)
    if range_condition is not None:
        query_kwargs["range_key_condition"] = range_condition
    if keep is not None:  # count kept items here, not DynamoDB's returned ones
        query_kwargs["limit"] = None
    results = source.query(hash_key, **query_kwargs)
    items = list(results) if keep is None else \
        list(islice((item for item in results if keep(item)), limit + 1))
    if exact:
        more = len(items) == limit and results.last_evaluated_key is not None
        if cursor is None and total_hint is not None and len(items) >= total_hint:
            more = False
    else:
        more = len(items) > limit
    items = items[:limit]
    if backwards:
        items.reverse()
    if not items:
        return Page(items, False, False)
    # Walking forward, "previous" exists when we came from a cursor; walking back,
    # "next" always exists (the page we came from) and "previous" only if there is more.
    has_next = True if backwards else more
    has_previous = more if backwards else cursor is not None
    next_cursor = (encode_cursor(scope, key_of(items[-1], key_names), "next")
                   if has_next else False)
    previous_cursor = (encode_cursor(scope, key_of(items[0], key_names), "previous")
                       if has_previous else False)
    return Page(items, next_cursor, previous_cursor)
