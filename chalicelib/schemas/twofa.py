"""Schemas of /users/{user}/2fa."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError, PydanticUseDefault

from chalicelib.security.totp import MAX_ISSUER_BYTES, MAX_LABEL_BYTES, encoded_length
from chalicelib.validation import AuditSchema, Bool, Line, ObjectId


def _blank_is_absent(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise PydanticUseDefault()
    return value


def _fits(limit: int) -> Any:
    """Label and issuer go into the otpauth URI of a QR code, whose size is capped: bound
    them by their percent-encoded size, so 255 letters fit but not 255 emoji."""
    def check(value: str) -> str:
        if encoded_length(value) > limit:
            raise PydanticCustomError(
                "qr", f"is too long for a QR code (at most {limit} bytes once URL-encoded)")
        return value
    return AfterValidator(check)


TotpToken = Annotated[str, Field(pattern=r"^\s*(\d\s*){6}$")]
Label = Annotated[Line, BeforeValidator(_blank_is_absent), Field(max_length=255),
                  _fits(MAX_LABEL_BYTES)]
Issuer = Annotated[Line, BeforeValidator(_blank_is_absent), Field(max_length=255),
                   _fits(MAX_ISSUER_BYTES)]


class TotpSetup(AuditSchema):
    user: ObjectId
    issuer: Issuer | None = None
    label: Label | None = None
    fresh: Bool = False


class TotpVerify(AuditSchema):
    """Enable (with the first token from the app) and check take the same fields."""

    user: ObjectId
    token: TotpToken


class TwoFactorRef(AuditSchema):
    user: ObjectId
