"""The response envelope every cursor-paged listing shares."""
from __future__ import annotations

from typing import Any, Callable, Iterable


def page_response(page: Any, page_number: int, results: Iterable[dict[str, Any]],
                  total: int | None = None, **extra: Any) -> dict[str, Any]:
    items = list(results)
    return {
        **extra,
        "total": len(items) if total is None else total,
        "page": page_number,
        "previousCursor": page.previous_cursor,
        "nextCursor": page.next_cursor,
        "results": items,
    }


def shaped(page: Any, to_api: Callable[[Any], dict[str, Any]]) -> list[dict[str, Any]]:
    return [to_api(item) for item in page.items]
