"""Schemas of the /users endpoints."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from chalicelib.mailbox_paths import normalize_path
from chalicelib.schemas.messages import Expires
from chalicelib.schemas.common import Address, Language, Password, Scopes, Tags, Username
from chalicelib.schemas.metadata import MetaData, Targets
from chalicelib.validation import (AuditSchema, Bool, Int, Line, ListingSchema, ObjectId, Schema,
                                   Text)

Quota = Annotated[Int, Field(ge=0, le=2**53 - 1)]
Counter = Annotated[Int, Field(ge=0, le=1_000_000)]
PubKey = Annotated[Text, Field(max_length=65536)]
Name = Annotated[Line, Field(max_length=256)]
SpamLevel = Annotated[Int, Field(ge=0, le=100)]
MAX_WHITELIST = 100


def _from_whitelist(value: list[str]) -> list[str]:
    """Addresses (a `*` wildcard allowed) the account may also send from: lower-cased and
    de-duplicated, as WildDuck stores them."""
    seen = list(dict.fromkeys(item.strip().lower() for item in value if item.strip()))
    if len(seen) > MAX_WHITELIST:
        raise PydanticCustomError("list", f"must not have more than {MAX_WHITELIST} addresses")
    for item in seen:
        if len(item) > 128:
            raise PydanticCustomError("list", "must not have items longer than 128 characters")
    return seen


FromWhitelist = Annotated[list[Line], BeforeValidator(lambda v: v.split(",") if isinstance(v, str)
                                                      else v), AfterValidator(_from_whitelist)]


def _special_name(value: str) -> str:
    if "//" in value or value.endswith("/"):
        raise PydanticCustomError("path", "must not contain '//' or end with '/'")
    try:
        return normalize_path(value)
    except ValueError as exc:
        raise PydanticCustomError("path", str(exc)) from None


SpecialName = Annotated[Line, AfterValidator(_special_name)]


def _empty_as_none(value: object) -> object:
    return None if value == "" else value


class SpecialMailboxes(Schema):
    """Names of the special folders to create instead of the language's defaults."""

    sent: Annotated[SpecialName | None, BeforeValidator(_empty_as_none)] = None
    trash: Annotated[SpecialName | None, BeforeValidator(_empty_as_none)] = None
    junk: Annotated[SpecialName | None, BeforeValidator(_empty_as_none)] = None
    drafts: Annotated[SpecialName | None, BeforeValidator(_empty_as_none)] = None


class FeatureFlags(Schema):
    indexing: Bool = False


class ListUsers(ListingSchema):
    query: Annotated[Line, Field(max_length=256)] | None = None
    forward: Annotated[Line, Field(max_length=255)] | None = None
    tags: Tags | None = None
    requiredTags: Tags | None = None
    metaData: Bool = False
    internalData: Bool = False


class UserRef(AuditSchema):
    user: ObjectId


class ResolveUser(AuditSchema):
    username: Username


class Me(AuditSchema):
    pass


class Restore(AuditSchema):
    user: ObjectId


class ResetAllQuotas(AuditSchema):
    pass


class _Settings(AuditSchema):
    """Fields today's clients send on both create and update."""

    allowUnsafe: Bool = True
    targets: Targets | None = None
    spamLevel: SpamLevel | None = None
    uploadSentMessages: Bool | None = None
    fromWhitelist: FromWhitelist | None = None
    metaData: MetaData | None = None
    internalData: MetaData | None = None
    featureFlags: FeatureFlags | None = None
    imapMaxUpload: Quota | None = None
    imapMaxDownload: Quota | None = None
    pop3MaxDownload: Quota | None = None
    pop3MaxMessages: Counter | None = None
    imapMaxConnections: Counter | None = None
    receivedMax: Counter | None = None


class CreateUser(_Settings):
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
    filters: Counter | None = None
    tags: Tags | None = None
    pubKey: PubKey | None = None
    encryptMessages: Bool = False
    encryptForwarded: Bool = False
    disabledScopes: Scopes | None = None
    requirePasswordChange: Bool = False
    addTagsToAddress: Bool = False
    mailboxes: SpecialMailboxes | None = None


class UpdateUser(_Settings):
    """An empty `existingPassword`, `name` or `language` is as if not given (WildDuck)."""

    user: ObjectId
    existingPassword: Annotated[Annotated[str, Field(max_length=256)] | None,
                                BeforeValidator(_empty_as_none)] = None
    name: Annotated[Name | None, BeforeValidator(_empty_as_none)] = None
    password: Password = None
    hashedPassword: Bool = False
    quota: Quota | None = None
    retention: Quota | None = None
    language: Language | None = None
    recipients: Counter | None = None
    forwards: Counter | None = None
    filters: Counter | None = None
    tags: Tags | None = None
    pubKey: PubKey | None = None
    encryptMessages: Bool | None = None
    encryptForwarded: Bool | None = None
    disabledScopes: Scopes | None = None
    disabled: Bool | None = None
    suspended: Bool | None = None
    disable2fa: Bool | None = None


class DeleteUser(AuditSchema):
    user: ObjectId
    # When the data may be purged: a date, or false for as soon as the purge job runs;
    # absent, the 2-day grace period (the account can be restored until then).
    deleteAfter: Expires | None = None


class Logout(AuditSchema):
    user: ObjectId
    reason: Annotated[Line, Field(max_length=256)] | None = None


class ResetPassword(AuditSchema):
    user: ObjectId
    # The temporary password works from then on (24 hours from that time); false or
    # absent: at once.
    validAfter: Expires | None = None
