"""Request schemas: the field types WildDuck clients send and one `parse` entry point.

Each endpoint declares a pydantic model built from these types. `parse` validates the
merged request parameters against it and reports every failing field at once, keyed by
field name, in the shape clients already handle (`details`).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError, PydanticUseDefault

from chalicelib.errors import InputValidationError
from chalicelib.request_limits import MAX_DATE_MS, MIN_DATE_MS

# C0, DEL and C1: never part of a name, address, path, tag or header-like value.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Multi-line text keeps tab, line feed and carriage return.
_TEXT_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_TRUE = {"true", "1", "yes", "on", "y"}
_FALSE = {"false", "0", "no", "off", "n"}


def _bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "":
            raise PydanticUseDefault()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise PydanticCustomError("bool", "must be a boolean")


def _absent_if_empty(value: Any) -> Any:
    if value == "":
        raise PydanticUseDefault()
    return value


def _object_id(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F]{24}", value):
        return value.lower()
    raise PydanticCustomError("id", "must be a 24-character hex id")


def _ip(value: Any) -> Any:
    if value == "":
        raise PydanticUseDefault()
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise PydanticCustomError("ip", "must be an IPv4 or IPv6 address") from None


def _int(value: Any) -> Any:
    """Integers arrive as strings from query strings and forms."""
    if value == "":
        raise PydanticUseDefault()
    if isinstance(value, bool):
        raise PydanticCustomError("int", "must be an integer")
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return value


def _csv_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def has_control(text: str) -> bool:
    """True if `text` holds a C0, DEL or C1 control character (tab and newlines included)."""
    return bool(_CONTROL.search(text))


def _single_line(value: Any) -> Any:
    """Names, addresses, paths, tags and header-like values are one line of text: a control
    character there would cut an IMAP or MIME line, or hide what a value says."""
    if isinstance(value, str) and _CONTROL.search(value):
        raise PydanticCustomError("line", "must not contain control characters")
    return value


def _multi_line(value: Any) -> Any:
    if isinstance(value, str) and _TEXT_CONTROL.search(value):
        raise PydanticCustomError(
            "text", "must not contain control characters other than tab and line breaks")
    return value


def epoch_ms_in_range(value: int) -> int:
    """Dates are stored as epoch milliseconds; outside 1970..9999 no reader can show them."""
    if not MIN_DATE_MS <= value <= MAX_DATE_MS:
        raise PydanticCustomError("date", "must be a date between 1970 and 9999")
    return value


# Checked before the string type, so that length constraints added by a field keep their
# usual messages.
Line = Annotated[str, BeforeValidator(_single_line)]
Text = Annotated[str, BeforeValidator(_multi_line)]
Bool = Annotated[bool, BeforeValidator(_bool)]
Int = Annotated[int, BeforeValidator(_int)]
ObjectId = Annotated[str, BeforeValidator(_object_id)]
IpAddress = Annotated[str, BeforeValidator(_ip)]
Session = Annotated[Line, BeforeValidator(_absent_if_empty), Field(max_length=255)]
Cursor = Annotated[Line, BeforeValidator(_absent_if_empty), Field(max_length=2048)]
Limit = Annotated[int, BeforeValidator(_int), Field(ge=1, le=250)]
# Only echoed back, but bounded like every number the API takes.
Page = Annotated[int, BeforeValidator(_int), Field(ge=1, le=2**31 - 1)]
CsvList = Annotated[list[str], BeforeValidator(_csv_list)]


class Schema(BaseModel):
    """Base of every endpoint schema: unknown parameters are an error."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class ListingSchema(Schema):
    """Listing and search endpoints ignore parameters they do not know."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    limit: Limit = 20
    page: Page = 1
    next: Cursor | None = None
    previous: Cursor | None = None


class AuditSchema(Schema):
    """Fields every state-changing call may carry for the security log."""

    sess: Session | None = None
    ip: IpAddress | None = None


S = TypeVar("S", bound=BaseModel)


def _message(error: dict[str, Any], field: str) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f'"{field}" is not allowed'
    if kind == "missing":
        return f'"{field}" is required'
    return f'"{field}" {_lower_first(error["msg"])}'


def _lower_first(text: str) -> str:
    text = text.removeprefix("Value error, ")
    return text[:1].lower() + text[1:]


def parse(schema: type[S], data: dict[str, Any]) -> S:
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        details: dict[str, str] = {}
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "request"
            details.setdefault(field, _message(error, field))
        raise InputValidationError(details) from None
