"""Schemas of /authenticate and the authentication log."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AliasChoices, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from chalicelib.schemas.common import Scope
from chalicelib.validation import (AuditSchema, Bool, IpAddress, Line, ListingSchema, ObjectId,
                                   Session)


class Authenticate(AuditSchema):
    username: Annotated[Line, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    scope: Scope = "master"
    # What the security log records for the login; WildDuck's default when none is given.
    protocol: Annotated[Line, Field(min_length=1, max_length=64)] = "API"
    token: Bool = False
    appId: Annotated[Line, Field(max_length=256)] | None = None

    @field_validator("token")
    @classmethod
    def _token_needs_master_scope(cls, value: bool, info: ValidationInfo) -> bool:
        """An API token acts for the whole account, so a mail-client login can not mint one."""
        if value and info.data.get("scope", "master") != "master":
            raise PydanticCustomError("token", "can only be requested with the master scope")
        return value


class Preauth(AuditSchema):
    username: Annotated[Line, Field(min_length=1, max_length=320)]
    scope: Scope = "master"


class AuthlogEvent(AuditSchema):
    user: ObjectId
    event: ObjectId


class RevokeToken(AuditSchema):
    """DELETE /authenticate: the token to revoke is the one the request carries."""


class AuthlogQuery(ListingSchema):
    user: ObjectId
    # Trimmed and lower-cased as WildDuck does: actions are logged in lower case.
    action: Annotated[Line, AfterValidator(lambda text: text.strip().lower() or None),
                      Field(max_length=100)] | None = None
    sess: Session | None = None
    ip: IpAddress | None = None
    # Today's server filters on `filterIp` (documented as `filterip`); `ip` is then the caller's.
    filterIp: IpAddress | None = Field(None, validation_alias=AliasChoices("filterIp", "filterip"))
