"""Opaque paging cursors.

A cursor is the DynamoDB key of the item at a page edge plus the direction to read in,
base64url-encoded and HMAC-signed together with the listing it belongs to (for example
`authlog:<user>`), so a client can neither forge a key nor replay a cursor against
another user's listing.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Literal

from chalicelib.config import settings
from chalicelib.errors import InputValidationError

Direction = Literal["next", "previous"]


@dataclass(frozen=True)
class Cursor:
    key: dict[str, Any]
    direction: Direction


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(scope: str, payload: str) -> str:
    secret = settings().cursor_secret.encode()
    mac = hmac.new(secret, f"{scope}\n{payload}".encode(), hashlib.sha256).digest()
    return _b64(mac[:18])


def encode_cursor(scope: str, key: dict[str, Any], direction: Direction) -> str:
    payload = _b64(json.dumps({"k": key, "d": direction}, separators=(",", ":")).encode())
    return f"{payload}.{_signature(scope, payload)}"


def decode_cursor(scope: str, token: str, field: str = "next") -> Cursor:
    try:
        payload, signature = token.split(".", 1)
        if not hmac.compare_digest(signature, _signature(scope, payload)):
            raise ValueError("signature")
        data = json.loads(_unb64(payload))
        direction = data["d"]
        if direction not in ("next", "previous") or not isinstance(data["k"], dict):
            raise ValueError("shape")
    except (ValueError, KeyError, TypeError):
        raise InputValidationError({field: f'"{field}" is not a valid cursor'}) from None
    return Cursor(key=data["k"], direction=direction)
