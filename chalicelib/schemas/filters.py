"""Schemas of /filters and /users/{user}/filters.

Two request forms are accepted (compat-notes "Filters"): the contract's flat fields
(`query_from`, `action_seen`, `action_forward`, ...) and today's nested objects
(`query: {...}`, `action: {...}`). The flat ones are folded into the nested ones before
validation, so everything below sees one shape. A field given with an empty value is
kept as None: on update that clears it, on creation it is simply not set.
"""
from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, model_validator

from chalicelib.schemas import metadata
from chalicelib.validation import (AuditSchema, Bool, Int, Line, ListingSchema,
                                   ObjectId, Schema)

QUERY_FIELDS = ("from", "to", "subject", "listId", "text", "ha", "size")
ACTION_FIELDS = ("seen", "flag", "delete", "spam", "mailbox", "targets")


def _empty_is_none(value: Any) -> Any:
    return None if value == "" else value


def _collapse(value: str) -> str:
    return re.sub(r"\s+", " ", value.strip())


Match = Annotated[Annotated[Line, Field(max_length=255), AfterValidator(_collapse)] | None,
                  BeforeValidator(_empty_is_none)]
MaybeBool = Annotated[Bool | None, BeforeValidator(_empty_is_none)]
Size = Annotated[Annotated[Int, Field(ge=-(2**53), le=2**53)] | None,
                 BeforeValidator(_empty_is_none)]
# Targets and metadata are validated as on accounts and forwarded addresses.
Targets = Annotated[metadata.Targets | None, BeforeValidator(_empty_is_none)]
MailboxId = Annotated[ObjectId | None, BeforeValidator(_empty_is_none)]
MetaData = Annotated[metadata.MetaData | None, BeforeValidator(_empty_is_none)]
Name = Annotated[Annotated[Line, Field(max_length=255), AfterValidator(str.strip)] | None,
                 BeforeValidator(_empty_is_none)]


class _Given(Schema):
    def given(self) -> dict[str, Any]:
        """Fields the request named, by their API names; None means "clear"."""
        return {(type(self).model_fields[name].alias or name): getattr(self, name)
                for name in self.model_fields_set}


class FilterQuery(_Given):
    from_: Match = Field(None, alias="from")
    to: Match = None
    subject: Match = None
    listId: Match = None
    text: Match = None
    ha: MaybeBool = None
    size: Size = None


class FilterAction(_Given):
    seen: MaybeBool = None
    flag: MaybeBool = None
    delete: MaybeBool = None
    spam: MaybeBool = None
    mailbox: MailboxId = None
    targets: Targets = None


def _fold_flat(data: Any) -> Any:
    """`query_x` / `action_x` into `query.x` / `action.x`; the contract's `action_forward`
    (an address) and `action_targetUrl` (a URL) become `action.targets`."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for group in ("query", "action"):
        nested = data.get(group)
        if nested in ("", None):
            nested = {}
        if not isinstance(nested, dict):
            continue  # left for validation to refuse
        nested = dict(nested)
        for key in [k for k in data if k.startswith(group + "_")]:
            nested[key[len(group) + 1:]] = data.pop(key)
        if group == "action":
            legacy = [nested.pop(k) for k in ("forward", "targetUrl") if k in nested]
            if legacy:
                given = [str(v) for v in legacy if v not in ("", None)]
                nested.setdefault("targets", given or "")
        if nested or group in data:
            data[group] = nested
    return data


class FilterFields(AuditSchema):
    name: Name = None
    query: FilterQuery | None = None
    action: FilterAction | None = None
    disabled: MaybeBool = None
    metaData: MetaData = None

    _fold = model_validator(mode="before")(classmethod(lambda cls, data: _fold_flat(data)))


class CreateFilter(FilterFields):
    user: ObjectId


class UpdateFilter(FilterFields):
    user: ObjectId
    filter: ObjectId


class FilterRef(AuditSchema):
    user: ObjectId
    filter: ObjectId


class DeleteFilter(AuditSchema):
    user: ObjectId
    filter: ObjectId


class ListFilters(Schema):
    """A listing: unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    user: ObjectId
    metaData: Bool = False


class ListAllFilters(ListingSchema):
    forward: Annotated[Annotated[Line, Field(max_length=255)] | None,
                       BeforeValidator(_empty_is_none)] = None
    metaData: Bool = False
