"""What any request may carry at all, checked before a schema looks at it.

Free of pydantic on purpose: the HTTP edge runs these on every request, and a cold
Lambda imports this module without paying for the validation library (the schemas are
loaded with the route that needs them, api/http.endpoint).
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from chalicelib.errors import InputValidationError

# Bounds of what a request may carry at all, before any schema looks at it. A body is
# parsed and walked once; past these sizes it is refused whole instead of costing memory
# and recursion further down (pydantic, the store). The largest legitimate bodies are
# message uploads: four lists of 500 addresses are ~10,000 values, attachments up to 60 MB.
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32
MAX_VALUES = 20_000  # every key and every value, containers included
MAX_FORM_FIELDS = 1000

# The dates the API stores and shows: 1970-01-01 up to the last millisecond of 9999, the
# range every reader (ISO formatting, index keys of 15 digits) handles.
MIN_DATE_MS = 0
MAX_DATE_MS = 253_402_300_799_999

_SURROGATE = re.compile("[\ud800-\udfff]")

class _NotFinite(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite(text)
    return value


def _no_constant(name: str) -> float:
    raise _NotFinite(name)


def load_json(raw: bytes) -> Any:
    """The JSON document of a request body, or InputValidationError.

    Python's parser accepts `NaN`/`Infinity` and turns `1e400` into infinity, none of
    which any field accepts or DynamoDB stores; deep nesting makes it raise
    RecursionError. All of these are the client's mistake, so they answer 400 here.
    """
    check_body_size(raw)
    try:
        return json.loads(raw, parse_float=_finite, parse_constant=_no_constant)
    except _NotFinite:
        raise InputValidationError(
            {"body": "request body has a number that is not finite"}) from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError:  # UnicodeDecodeError included
        raise InputValidationError({"body": "request body is not valid JSON"}) from None


def check_body_size(raw: bytes) -> None:
    """Refuse any body, whatever its type, past the size a request may have."""
    if len(raw) > MAX_BODY_BYTES:
        raise InputValidationError(
            {"body": f"request body is larger than {MAX_BODY_BYTES} bytes"})


def _too_deep() -> InputValidationError:
    return InputValidationError({"body": f"request body is nested deeper than {MAX_DEPTH} levels"})


def check_values(params: dict[str, Any]) -> None:
    """Refuse request values no field could take, before a schema sees them.

    One walk over the merged parameters (body, query, path), without recursion: nesting
    past `MAX_DEPTH`, more than `MAX_VALUES` keys and values, and strings holding a lone
    surrogate (JSON can escape one, `"\\ud800"`; it is not Unicode text, and encoding it
    for DynamoDB, S3 or a log line would fail much later).
    """
    count = 0
    stack: list[tuple[Any, int, str]] = [(params, 1, "body")]
    while stack:
        value, depth, field = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise InputValidationError(
                {"body": f"request has more than {MAX_VALUES} keys and values"})
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise InputValidationError({field: f'"{field}" must be valid unicode text'})
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str) or _SURROGATE.search(key):
                    raise InputValidationError({"body": "keys must be valid unicode text"})
                count += 1
                stack.append((item, depth + 1, key if depth == 1 else field))
        else:
            stack.extend((item, depth + 1, field) for item in value)
