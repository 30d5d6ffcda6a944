"""Free-form JSON a client attaches to an account or address (`metaData`,
`internalData`), and forwarding targets.

Clients send metadata either as an object or as a JSON string of one; it is stored as
compact JSON text (DynamoDB maps refuse some JSON values, such as empty keys in older
SDKs, and text round-trips exactly) and answered as an object (chalicelib/metadata.py).
"""
from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from chalicelib import addressing

# WildDuck allows 1 MB of text; a DynamoDB item holds 400 KB in all, and an account item
# carries two of these beside its key and settings, so each is held to 64 KiB.
MAX_METADATA_BYTES = 64 * 1024
# Every new target is logged in the change's own transaction (100 operations at most).
MAX_TARGETS = 50
MAX_TARGET_LENGTH = 1024


def _metadata(value: Any) -> str:
    """The compact JSON text of an object given as an object or a JSON string."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise PydanticCustomError("metadata", "must be a JSON object") from None
    if not isinstance(value, dict):
        raise PydanticCustomError("metadata", "must be an object")
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode("utf-8")) > MAX_METADATA_BYTES:
        raise PydanticCustomError(
            "metadata", f"must not be longer than {MAX_METADATA_BYTES} bytes as JSON")
    return text


def _target(value: Any) -> str:
    """An address (stored as `addressing.display_address` spells it) or an smtp(s)/http(s)
    URL, as `addressing.target_type` tells them apart."""
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError("target", "must be an email address or an smtp(s)/http(s) URL")
    value = value.strip()
    if len(value) > MAX_TARGET_LENGTH:
        raise PydanticCustomError("target",
                                  f"must not be longer than {MAX_TARGET_LENGTH} characters")
    kind = addressing.target_type(value)
    if kind is None and re.match(r"^[a-z][a-z0-9+.-]*://", value, re.IGNORECASE):
        raise PydanticCustomError("target", f'Unknown target type "{value}"')
    if kind is None:
        raise PydanticCustomError("target", "must be an email address or an smtp(s)/http(s) URL")
    return addressing.display_address(value) if kind == "mail" else value


def _targets(value: Any) -> list[str]:
    if isinstance(value, str):  # a form field: comma separated
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        raise PydanticCustomError("targets", "must be an array")
    if len(value) > MAX_TARGETS:
        raise PydanticCustomError("targets", f"must not have more than {MAX_TARGETS} targets")
    return list(dict.fromkeys(_target(item) for item in value))


MetaData = Annotated[str, BeforeValidator(_metadata)]
Targets = Annotated[list[str], BeforeValidator(_targets)]
