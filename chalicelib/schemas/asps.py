"""Schemas of /users/{user}/asps."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from chalicelib.schemas.common import Address
from chalicelib.validation import AuditSchema, Bool, CsvList, Int, Line, ObjectId, Schema

ASP_SCOPES = ("imap", "pop3", "smtp")
ALL = "*"
TEN_YEARS = 10 * 365 * 24 * 3600


def _asp_scopes(value: list[str]) -> list[str]:
    """Known scopes only; `*`, or all three protocols, collapse to `["*"]`."""
    scopes = list(dict.fromkeys(scope.lower() for scope in value))
    for scope in scopes:
        if scope != ALL and scope not in ASP_SCOPES:
            raise PydanticCustomError("scope", "must contain only imap, pop3, smtp or *")
    if not scopes or ALL in scopes or set(ASP_SCOPES) <= set(scopes):
        return [ALL]
    return scopes


AspScopes = Annotated[CsvList, AfterValidator(_asp_scopes)]
Description = Annotated[Line, Field(min_length=1, max_length=255)]
# 0 or an empty string mean "does not expire", as in WildDuck.
Ttl = Annotated[Int, Field(ge=0, le=TEN_YEARS)]


class ListAsps(Schema):
    """A listing: unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    user: ObjectId
    # As WildDuck: passwords made with a `ttl` (temporary ones) are listed only when asked.
    showAll: Bool = False


class AspRef(AuditSchema):
    user: ObjectId
    asp: ObjectId


def _empty_as_none(value: object) -> object:
    return None if value == "" else value


# A password chosen by the caller: WildDuck's own format, 16 lower-case latin letters.
AspPassword = Annotated[str, BeforeValidator(_empty_as_none), Field(pattern=r"^[a-z]{16}$")]


class CreateAsp(AuditSchema):
    user: ObjectId
    description: Description
    scopes: AspScopes = [ALL]
    ttl: Ttl | None = None
    generateMobileconfig: Bool = False
    password: AspPassword | None = None
    address: Annotated[Address | None, BeforeValidator(_empty_as_none)] = None


class DeleteAsp(AuditSchema):
    user: ObjectId
    asp: ObjectId
