"""Schemas of /authenticate and the authentication log."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chalicelib.schemas.common import Scope
from chalicelib.validation import AuditSchema, Bool, IpAddress, ListingSchema, ObjectId, Session


class Authenticate(AuditSchema):
    username: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    scope: Scope = "master"
    protocol: Annotated[str, Field(max_length=64)] | None = None
    token: Bool = False
    appId: Annotated[str, Field(max_length=256)] | None = None


class AuthlogQuery(ListingSchema):
    user: ObjectId
    action: Annotated[str, Field(max_length=64)] | None = None
    sess: Session | None = None
    ip: IpAddress | None = None
