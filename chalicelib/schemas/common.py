"""Field types shared by several resource families."""
from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError, PydanticUseDefault

from chalicelib import addressing
from chalicelib.validation import CsvList, Line, has_control

SCOPES = ("master", "imap", "pop3", "smtp")


def _username(value: Any) -> Any:
    if not isinstance(value, str):
        raise PydanticCustomError("username", "must be a string")
    value = addressing.normalize_username(value)
    if not addressing.is_valid_username(value):
        raise PydanticCustomError(
            "username", "must be letters, digits and '-' joined by '.', '_', '=' or ':'")
    return value


def _address(value: Any) -> Any:
    if not isinstance(value, str) or not addressing.is_valid_address(value):
        raise PydanticCustomError("email", "must be a valid email address")
    return addressing.display_address(value)


def _password(value: Any) -> Any:
    """`false` or an empty string mean "no password"."""
    if value is False or value == "":
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("password", "must be a string or false")
    return value


MAX_TAGS = 100
MAX_TAG_LENGTH = 256


def _tags(value: list[str]) -> list[str]:
    """De-duplicated case-insensitively, and bounded so items stay far below 400 KB."""
    seen: dict[str, str] = {}
    for tag in value:
        seen.setdefault(tag.strip().lower(), tag.strip())
    tags = [tag for tag in seen.values() if tag]
    if len(tags) > MAX_TAGS:
        raise PydanticCustomError("tags", f"must not have more than {MAX_TAGS} tags")
    if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise PydanticCustomError("tags", f"must not be longer than {MAX_TAG_LENGTH} characters")
    if any(has_control(tag) for tag in tags):
        raise PydanticCustomError("tags", "must not contain control characters")
    return tags


def _scopes(value: list[str]) -> list[str]:
    for scope in value:
        if scope not in SCOPES:
            raise PydanticCustomError("scope", "must contain only master, imap, pop3, smtp")
    return list(dict.fromkeys(value))


def _language(value: Any) -> Any:
    if value == "":
        raise PydanticUseDefault()
    return value


Username = Annotated[str, BeforeValidator(_username)]
Address = Annotated[str, BeforeValidator(_address)]


def _address_or_id(value: Any) -> Any:
    """An address id (24 hex, lower-cased) as it is, else an address (which has an `@`,
    so it is never taken for an id)."""
    if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F]{24}", value):
        return value.lower()
    return _address(value)


AddressOrId = Annotated[str, BeforeValidator(_address_or_id)]


def _address_or_any_domain(value: Any) -> Any:
    if isinstance(value, str) and addressing.is_user_at_any_domain(value.strip()):
        return value.strip()
    return _address(value)


# An address, or WildDuck's `user@*` (that user at any domain; needs allowWildcard).
WildcardAddress = Annotated[str, BeforeValidator(_address_or_any_domain)]
Password = Annotated[Annotated[Line, Field(max_length=256)] | None, BeforeValidator(_password)]
Tags = Annotated[CsvList, AfterValidator(_tags)]
Scopes = Annotated[CsvList, AfterValidator(_scopes)]
# Any text of at most 20 characters, as WildDuck takes it; default folder names are picked
# by its first subtag (services/mailbox_defaults), English when it names no known one.
Language = Annotated[Line, BeforeValidator(_language), Field(max_length=20)]
Scope = Annotated[str, Field(pattern=r"^(master|imap|pop3|smtp)$")]
