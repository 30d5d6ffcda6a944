"""Schemas of the message, archive and quota endpoints."""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError, PydanticUseDefault

from chalicelib import addressing
from chalicelib.schemas.metadata import MetaData
from chalicelib.validation import (AuditSchema, Bool, Line, ListingSchema, ObjectId, Schema, Text,
                                   epoch_ms_in_range, has_control)


def _epoch_ms(value: Any) -> Any:
    """ISO 8601, RFC 2822 or epoch milliseconds -> epoch milliseconds in 1970..9999."""
    if value == "" or value is None:
        raise PydanticUseDefault()
    if isinstance(value, bool):
        raise PydanticCustomError("date", "must be a date")
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("date", "must be a date")
    if isinstance(value, (int, float)):
        return epoch_ms_in_range(int(value))
    text = str(value).strip()
    if re.fullmatch(r"\d{1,15}", text):
        return epoch_ms_in_range(int(text))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise PydanticCustomError("date", "must be a date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        epoch_ms = int(moment.timestamp() * 1000)
    except (OverflowError, ValueError):
        raise PydanticCustomError("date", "must be a date") from None
    return epoch_ms_in_range(epoch_ms)


# The last instant an answer can show: dates are answered in ISO 8601 (4-digit years).
MAX_DATE_MS = 253402300799999


def _expires(value: Any) -> Any:
    """A date from 1970 to 9999, or `false` to clear the expiry (kept as 0)."""
    if value is False or (isinstance(value, str) and value.strip().lower() == "false"):
        return 0
    moment = _epoch_ms(value)
    if not 0 <= moment <= MAX_DATE_MS:
        raise PydanticCustomError("date", "must be a date between 1970 and 9999")
    return moment


def _uid(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,10}\s*", value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2 ** 32:
        return value
    raise PydanticCustomError("uid", "must be a message id (an integer from 1)")


_TARGET = re.compile(r"^(\d{1,10}(:(\d{1,10}|\*))?)(,\d{1,10}(:(\d{1,10}|\*))?)*$")


def _target(value: Any) -> Any:
    """`444`, `1,2,3`, `444:446` (either order), `5:*`, or a mix of those."""
    text = str(value).strip().replace(" ", "")
    if not _TARGET.match(text) or len(text) > 4096:
        raise PydanticCustomError(
            "target", "must be a message id, a comma separated list or a range of ids")
    for part in re.split(r"[,:]", text):
        if part != "*" and not 1 <= int(part) < 2 ** 32:
            raise PydanticCustomError("target", "message ids are integers from 1")
    return text


def _address(value: Any) -> Any:
    if isinstance(value, str):
        value = {"address": value}
    if not isinstance(value, dict):
        raise PydanticCustomError("address", "must be an address object")
    address = str(value.get("address") or "").strip()
    if not addressing.is_valid_address(address):
        raise PydanticCustomError("address", "must contain a valid email address")
    unknown = set(value) - {"name", "address"}
    if unknown:
        raise PydanticCustomError("address", f'"{sorted(unknown)[0]}" is not allowed')
    name = value.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 256):
        raise PydanticCustomError("address", "name must be a string of at most 256 characters")
    if name and has_control(name):
        raise PydanticCustomError("address", "name must not contain control characters")
    return {"name": name or "", "address": address}


def _address_list(value: Any) -> Any:
    if value in ("", None):
        raise PydanticUseDefault()
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list) or len(value) > 500:
        raise PydanticCustomError("addresses", "must be a list of at most 500 addresses")
    return [_address(v) for v in value]


def _raw(value: Any) -> Any:
    if value in ("", None):
        raise PydanticUseDefault()
    if isinstance(value, (bytes, bytearray, str)):
        return value
    raise PydanticCustomError("raw", "must be an RFC 822 message (text or base64)")


EpochMs = Annotated[int, BeforeValidator(_epoch_ms)]
Expires = Annotated[int, BeforeValidator(_expires)]
Uid = Annotated[int, BeforeValidator(_uid)]
Target = Annotated[str, BeforeValidator(_target)]
AddressIn = Annotated[dict[str, str], BeforeValidator(_address)]
AddressList = Annotated[list[dict[str, str]], BeforeValidator(_address_list)]
Raw = Annotated[Any, BeforeValidator(_raw)]
Order = Literal["asc", "desc"]


def _content_encoding(value: Any) -> Any:
    """WildDuck's `encoding` of `content` (its default, and all the web mail sends, is
    base64); "" is the default."""
    if value == "" or value is None:
        raise PydanticUseDefault()
    if not isinstance(value, str) or value.strip().lower() != "base64":
        raise PydanticCustomError("encoding", "must be base64: content is base64 encoded")
    return "base64"


class AttachmentIn(Schema):
    filename: Annotated[Line, Field(max_length=255)] | None = None
    contentType: Annotated[str, Field(max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+$")] | None = None
    content: Annotated[str, Field(max_length=60 * 1024 * 1024)]
    encoding: Annotated[Literal["base64"] | None, BeforeValidator(_content_encoding)] = None
    cid: Annotated[Line, Field(max_length=255)] | None = None
    contentDisposition: Literal["inline", "attachment"] | None = None


class HeaderIn(Schema):
    key: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[!-9;-~]+$")]
    value: Annotated[Line, Field(max_length=998)] = ""


class UploadMessage(AuditSchema):
    user: ObjectId
    mailbox: ObjectId
    raw: Raw = None
    uploadId: ObjectId | None = None
    from_: Annotated[AddressIn | None, Field(alias="from")] = None
    to: AddressList | None = None
    cc: AddressList | None = None
    bcc: AddressList | None = None
    replyTo: AddressList | None = None
    subject: Annotated[Line, Field(max_length=2048)] | None = None
    text: Annotated[Text, Field(max_length=10 * 1024 * 1024)] | None = None
    html: Annotated[Text, Field(max_length=10 * 1024 * 1024)] | None = None
    attachments: Annotated[list[AttachmentIn], Field(max_length=100)] | None = None
    headers: Annotated[list[HeaderIn], Field(max_length=100)] | None = None
    unseen: Bool = False
    flagged: Bool = False
    draft: Bool = False
    date: EpochMs | None = None
    metaData: MetaData | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "UploadMessage":
        structured = any(getattr(self, name) is not None for name in (
            "from_", "to", "cc", "bcc", "replyTo", "subject", "text", "html",
            "attachments", "headers"))
        given = [name for name, on in (("raw", self.raw is not None),
                                       ("uploadId", self.uploadId is not None),
                                       ("structured fields", structured)) if on]
        if not given:
            raise ValueError("give the message as raw, uploadId or structured fields")
        if len(given) > 1:
            raise ValueError(f"give only one of raw, uploadId or structured fields, not "
                             f"{' and '.join(given)}")
        return self

    def compose_fields(self) -> dict[str, Any]:
        return {
            "from_": self.from_, "to": self.to, "cc": self.cc, "bcc": self.bcc,
            "reply_to": self.replyTo, "subject": self.subject, "text": self.text,
            "html": self.html,
            "attachments": [a.model_dump(exclude_none=True) for a in self.attachments or []],
            "headers": [h.model_dump() for h in self.headers or []],
        }


class CreateUpload(Schema):
    user: ObjectId


class ListMessages(ListingSchema):
    user: ObjectId
    mailbox: ObjectId
    order: Order = "desc"
    unseen: Bool = False


class ListFlagged(ListingSchema):
    user: ObjectId
    order: Order = "desc"


class MessageRef(AuditSchema):
    user: ObjectId
    mailbox: ObjectId
    message: Uid


class ReadMessage(MessageRef):
    """GET of a message: web mail opens it (and the original of a reply or forward)
    with `markAsSeen`; `replaceCidLinks` turns inline image links into API URLs."""

    markAsSeen: Bool = False
    replaceCidLinks: Bool = False


class AttachmentRef(MessageRef):
    # Any case and any number of digits, as WildDuck takes it; an id the message does not
    # have is 404 AttachmentNotFound.
    attachment: Annotated[str, BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v),
                          Field(pattern=r"^ATT\d{1,10}$")]


class UpdateMessages(AuditSchema):
    user: ObjectId
    mailbox: ObjectId
    message: Target
    moveTo: ObjectId | None = None
    seen: Bool | None = None
    flagged: Bool | None = None
    draft: Bool | None = None
    deleted: Bool | None = None
    expires: Expires | None = None
    metaData: MetaData | None = None


class ClearMailbox(AuditSchema):
    user: ObjectId
    mailbox: ObjectId
    async_: Bool = Field(False, alias="async")  # queue the work instead of doing it now
    skipArchive: Bool = False


class DeleteMessage(AuditSchema):
    user: ObjectId
    mailbox: ObjectId
    message: Uid


class ListArchived(ListingSchema):
    user: ObjectId
    order: Order = "desc"


class ArchivedRef(AuditSchema):
    user: ObjectId
    message: ObjectId


class RestoreArchived(AuditSchema):
    user: ObjectId
    message: ObjectId
    mailbox: ObjectId | None = None


class RestoreArchivedRange(AuditSchema):
    """`POST /archived/restore`: everything deleted from `start` to `end` (inclusive)."""

    user: ObjectId
    start: EpochMs
    end: EpochMs


class QuotaReset(AuditSchema):
    user: ObjectId
