"""Schemas of the address endpoints."""
from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import unquote

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from chalicelib.schemas.common import Address, AddressOrId, Tags, WildcardAddress
from chalicelib.schemas.metadata import MetaData
from chalicelib.validation import AuditSchema, Bool, Limit, Line, ListingSchema, ObjectId

Name = Annotated[Line, Field(max_length=256)]


def _only_true(value: bool) -> bool:
    """An address stops being main only when another one becomes main."""
    if not value:
        raise PydanticCustomError("main", "can only be set to true")
    return value


def _url_decoded(value: Any) -> Any:
    """An address in a URL path arrives percent-encoded from `chalice local` (and from
    API Gateway when the client encoded it); decode it once."""
    if isinstance(value, str) and re.search(r"%[0-9A-Fa-f]{2}", value):
        return unquote(value)
    return value


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class SearchAddresses(ListingSchema):
    query: Annotated[Line, Field(max_length=320)] | None = None
    # forwarded addresses with this target (an address or URL, matched whole)
    forward: Annotated[Line, BeforeValidator(_trimmed), Field(max_length=255)] | None = None
    tags: Tags | None = None
    requiredTags: Tags | None = None
    metaData: Bool = False
    internalData: Bool = False


class ResolveAddress(AuditSchema):
    address: Annotated[AddressOrId, BeforeValidator(_url_decoded)]
    allowWildcard: Bool = False  # an unknown address may match a catch-all `*@domain`


class UserAddresses(AuditSchema):
    user: ObjectId
    metaData: Bool = False
    internalData: Bool = False


class AddressRegisterQuery(AuditSchema):
    user: ObjectId
    # Trimmed first, as WildDuck does: a query of spaces is a missing query.
    query: Annotated[Line, BeforeValidator(_trimmed), Field(min_length=1, max_length=255)]
    limit: Limit = 20


class AddressRef(AuditSchema):
    user: ObjectId
    id: ObjectId  # the path's address id (WildDuck's `:id`)


class CreateAddress(AuditSchema):
    user: ObjectId
    address: WildcardAddress
    main: Bool = False
    allowWildcard: Bool = False  # `*@domain`, `*suffix@domain`, `prefix*@domain`, `user@*`
    name: Name | None = None
    tags: Tags | None = None
    metaData: MetaData | None = None
    internalData: MetaData | None = None


class UpdateAddress(AuditSchema):
    user: ObjectId
    id: ObjectId
    address: Address | None = None  # a new spelling or a new address for it
    main: Annotated[Bool, AfterValidator(_only_true)] | None = None
    name: Name | None = None
    tags: Tags | None = None
    metaData: MetaData | None = None
    internalData: MetaData | None = None
