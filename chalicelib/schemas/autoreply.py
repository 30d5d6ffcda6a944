"""Schemas of /users/{user}/autoreply."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from chalicelib.schemas.messages import Expires
from chalicelib.validation import AuditSchema, Bool, Line, ObjectId, Text

Name = Annotated[Line, Field(max_length=128), AfterValidator(str.strip)]
Subject = Annotated[Line, Field(max_length=2 * 1024), AfterValidator(str.strip)]
Body = Annotated[Text, Field(max_length=128 * 1024), AfterValidator(str.strip)]


class AutoreplyRef(AuditSchema):
    user: ObjectId


class DeleteAutoreply(AuditSchema):
    user: ObjectId


class UpdateAutoreply(AuditSchema):
    """Only the fields given change. `start`/`end` take a date, or false to remove the
    bound; `message` is the contract's name for `text`."""

    user: ObjectId
    status: Bool | None = None
    name: Name | None = None
    subject: Subject | None = None
    text: Body | None = None
    html: Body | None = None
    start: Expires | None = None
    end: Expires | None = None

    @model_validator(mode="before")
    @classmethod
    def _message_is_text(cls, data: object) -> object:
        if isinstance(data, dict) and "message" in data:
            data = dict(data)
            message = data.pop("message")
            data.setdefault("text", message)
        return data
