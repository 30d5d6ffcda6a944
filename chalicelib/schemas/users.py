"""Schemas of the /users endpoints."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chalicelib.schemas.common import Address, Language, Password, Scopes, Tags, Username
from chalicelib.validation import (AuditSchema, Bool, Int, Line, ListingSchema, ObjectId, Schema,
                                   Text)

Quota = Annotated[Int, Field(ge=0, le=2**53 - 1)]
Counter = Annotated[Int, Field(ge=0, le=1_000_000)]
PubKey = Annotated[Text, Field(max_length=65536)]
Name = Annotated[Line, Field(max_length=256)]


class ListUsers(ListingSchema):
    query: Annotated[Line, Field(max_length=256)] | None = None
    tags: Tags | None = None
    requiredTags: Tags | None = None


class UserRef(Schema):
    user: ObjectId


class CreateUser(AuditSchema):
    username: Username
    password: Password
    hashedPassword: Bool = False
    address: Address | None = None
    emptyAddress: Bool = False
    name: Name | None = None
    quota: Quota | None = None
    retention: Quota | None = None
    language: Language | None = None
    recipients: Counter | None = None
    forwards: Counter | None = None
    tags: Tags | None = None
    pubKey: PubKey | None = None
    encryptMessages: Bool = False
    encryptForwarded: Bool = False
    disabledScopes: Scopes | None = None
    requirePasswordChange: Bool = False


class UpdateUser(AuditSchema):
    user: ObjectId
    existingPassword: Annotated[str, Field(max_length=256)] | None = None
    name: Name | None = None
    password: Password = None
    hashedPassword: Bool = False
    quota: Quota | None = None
    retention: Quota | None = None
    language: Language | None = None
    recipients: Counter | None = None
    forwards: Counter | None = None
    tags: Tags | None = None
    pubKey: PubKey | None = None
    encryptMessages: Bool | None = None
    encryptForwarded: Bool | None = None
    disabledScopes: Scopes | None = None
    disabled: Bool | None = None
    suspended: Bool | None = None


class DeleteUser(AuditSchema):
    user: ObjectId


class Logout(Schema):
    user: ObjectId
    reason: Annotated[Line, Field(max_length=256)] | None = None


class ResetPassword(AuditSchema):
    user: ObjectId
