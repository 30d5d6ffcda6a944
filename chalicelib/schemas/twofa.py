"""Schemas of /users/{user}/2fa."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticUseDefault

from chalicelib.validation import AuditSchema, Bool, ObjectId


def _blank_is_absent(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise PydanticUseDefault()
    return value


TotpToken = Annotated[str, Field(pattern=r"^\s*(\d\s*){6}$")]
Label = Annotated[str, BeforeValidator(_blank_is_absent), Field(max_length=255)]


class TotpSetup(AuditSchema):
    user: ObjectId
    issuer: Label | None = None
    label: Label | None = None
    fresh: Bool = False


class TotpVerify(AuditSchema):
    """Enable (with the first token from the app) and check take the same fields."""

    user: ObjectId
    token: TotpToken


class TwoFactorRef(AuditSchema):
    user: ObjectId
