"""Schemas of /addresses/forwarded and /domainaliases."""
from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from chalicelib.schemas.addresses import _url_decoded
from chalicelib.schemas.autoreply import Body, Subject
from chalicelib.schemas.autoreply import Name as ReplyName
from chalicelib.schemas.common import Tags, WildcardAddress
from chalicelib.schemas.messages import Expires
from chalicelib.schemas.metadata import MetaData, Targets
from chalicelib.validation import AuditSchema, Bool, Int, Line, ListingSchema, ObjectId, Schema

Name = Annotated[Line, Field(max_length=128)]
Forwards = Annotated[Int, Field(ge=0, le=1_000_000)]
Domain = Annotated[Line, Field(min_length=1, max_length=255)]


class AddressAutoreply(Schema):
    """A forwarded address's autoreply. `status` is on unless given (WildDuck's default
    for this object); the other fields change only when given; `start`/`end` take a
    date or false (no bound)."""

    status: Bool = True
    name: ReplyName | None = None
    subject: Subject | None = None
    text: Body | None = None
    html: Body | None = None
    start: Expires | None = None
    end: Expires | None = None


class CreateForwarded(AuditSchema):
    address: WildcardAddress
    name: Name | None = None
    targets: Targets | None = None
    forwards: Forwards = 0
    allowWildcard: Bool = False
    autoreply: AddressAutoreply | None = None
    tags: Tags | None = None
    metaData: MetaData | None = None
    internalData: MetaData | None = None


class ForwardedRef(AuditSchema):
    id: ObjectId  # the path's `{id}`: WildDuck clients put the address id there


class UpdateForwarded(AuditSchema):
    id: ObjectId
    address: WildcardAddress | None = None  # a new address for it
    name: Name | None = None
    targets: Targets | None = None
    forwards: Forwards | None = None
    autoreply: AddressAutoreply | None = None
    tags: Tags | None = None
    metaData: MetaData | None = None
    internalData: MetaData | None = None
    forwardedDisabled: Bool | None = None


class CreateDomainAlias(AuditSchema):
    alias: Domain
    domain: Domain


class ListDomainAliases(ListingSchema):
    query: Annotated[Line, Field(max_length=255)] | None = None


class DomainAliasRef(AuditSchema):
    alias: ObjectId


class ResolveDomainAlias(AuditSchema):
    alias: Annotated[Domain, BeforeValidator(_url_decoded)]


class RenameDomain(AuditSchema):
    oldDomain: Domain
    newDomain: Domain
