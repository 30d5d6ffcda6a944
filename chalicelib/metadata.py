"""`metaData` and `internalData`: free-form JSON objects stored as compact JSON text
(validated in schemas/metadata.py), answered as objects."""
from __future__ import annotations

import json
from typing import Any


def loaded(text: str | None) -> dict[str, Any]:
    """The stored metadata as an object ({} when none)."""
    return json.loads(text) if text else {}
