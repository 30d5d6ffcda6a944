"""Schemas of the submission endpoints (WildDuck's lib/api/submit.js and the stored
draft's submit route)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chalicelib.schemas.messages import (AddressIn, AddressList, AttachmentIn, EpochMs,
                                         HeaderIn, Uid)
from chalicelib.schemas.common import Address
from chalicelib.schemas.metadata import MetaData
from chalicelib.validation import AuditSchema, Bool, Int, Line, ObjectId, Schema, Text


class Reference(Schema):
    """A stored message this one replies to or forwards."""

    mailbox: ObjectId
    id: Uid
    action: Literal["reply", "replyAll", "forward"]


class DraftRef(Schema):
    """A stored draft this message replaces: deleted once the message is stored."""

    mailbox: ObjectId
    id: Uid


class Envelope(Schema):
    from_: Annotated[AddressIn | None, Field(alias="from")] = None
    to: AddressList | None = None


class SubmitMessage(AuditSchema):
    user: ObjectId
    mailbox: ObjectId | None = None
    from_: Annotated[AddressIn | None, Field(alias="from")] = None
    replyTo: AddressIn | None = None
    to: AddressList | None = None
    cc: AddressList | None = None
    bcc: AddressList | None = None
    headers: Annotated[list[HeaderIn], Field(max_length=100)] | None = None
    subject: Annotated[Line, Field(max_length=2048)] | None = None
    text: Annotated[Text, Field(max_length=1024 * 1024)] | None = None
    html: Annotated[Text, Field(max_length=1024 * 1024)] | None = None
    attachments: Annotated[list[AttachmentIn], Field(max_length=100)] | None = None
    reference: Reference | None = None
    isDraft: Bool = False
    draft: DraftRef | None = None
    sendTime: EpochMs | None = None
    uploadOnly: Bool = False
    envelope: Envelope | None = None
    # WildDuck merges it into the stored message's internal meta and answers nothing of
    # it but `reference`; the web mail sends {reference, hasFromAddress} with every reply
    # and forward. Checked as metadata (an object or JSON text of one), then not kept.
    meta: MetaData | None = None


class SubmitDraft(AuditSchema):
    user: ObjectId
    mailbox: ObjectId
    message: Uid
    deleteFiles: Bool = False
    sendTime: EpochMs | None = None


class ForwardStored(AuditSchema):
    user: ObjectId
    mailbox: ObjectId
    message: Uid
    # The n-th target a delivery forwarded the message to: those are not kept here,
    # so it adds none (WildDuck then forwards to `addresses` alone, as here).
    target: Annotated[Int, Field(ge=1, le=1000)] | None = None
    addresses: Annotated[list[Address], Field(max_length=50)] | None = None
