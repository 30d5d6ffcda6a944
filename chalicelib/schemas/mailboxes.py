"""Schemas of the mailbox endpoints."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from chalicelib import mailbox_paths
from chalicelib.validation import AuditSchema, Bool, Int, ObjectId

# milliseconds; bounded so that any accepted value is a valid DynamoDB number
Retention = Annotated[Int, Field(ge=0, le=2**53 - 1)]


def _path(value: Any) -> Any:
    if not isinstance(value, str):
        raise PydanticCustomError("path", "must be a string")
    # As the reference server: a leading slash is dropped, but a trailing one or an
    # empty segment is a mistake the client is told about, not silently repaired.
    if value.endswith("/") or "//" in value:
        raise PydanticCustomError("path", "must not end with a slash or contain \"//\"")
    try:
        return mailbox_paths.normalize_path(value)
    except ValueError as exc:
        raise PydanticCustomError("path", str(exc)) from None


MailboxPath = Annotated[str, BeforeValidator(_path)]


class ListMailboxes(AuditSchema):
    """A listing: like the other listings it ignores parameters it does not know."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    user: ObjectId
    counters: Bool = False
    sizes: Bool = False
    specialUse: Bool = False
    showHidden: Bool = False


class MailboxRef(AuditSchema):
    user: ObjectId
    mailbox: ObjectId


class ResolveMailbox(AuditSchema):
    user: ObjectId
    path: MailboxPath


class CreateMailbox(AuditSchema):
    user: ObjectId
    path: MailboxPath
    retention: Retention | None = None
    hidden: Bool = False
    encryptMessages: Bool = False


class UpdateMailbox(AuditSchema):
    user: ObjectId
    mailbox: ObjectId
    path: MailboxPath | None = None
    retention: Retention | None = None
    subscribed: Bool | None = None
    hidden: Bool | None = None
    encryptMessages: Bool | None = None

    def changes_nothing(self) -> bool:
        return all(value is None for value in (self.path, self.retention, self.subscribed,
                                               self.hidden, self.encryptMessages))
