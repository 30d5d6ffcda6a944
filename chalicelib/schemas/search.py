"""Schema of the message search."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticUseDefault

from chalicelib.errors import InputValidationError
from chalicelib.schemas.messages import EpochMs, Order
from chalicelib.validation import Bool, Int, Line, ListingSchema, ObjectId

Size = Annotated[Int, Field(ge=0, le=2**53)]
Query = Annotated[Line, Field(max_length=255)]
Partial = Annotated[Line, Field(max_length=255)]

# Parameters of today's WildDuck search that this API does not offer
# (docs/compatibility.md, "Search"): refused rather than ignored, since ignoring them
# would answer a wider search than the one asked for.
UNSUPPORTED = {
    "q": "the query language of `q` is not supported; use query, from, to, subject, ...",
    "or": "`or` terms are not supported",
    "id": "uid ranges are not supported in a search; list the mailbox instead",
    "includeHeaders": "includeHeaders is not supported",
}


def _thread_id(value: Any) -> Any:
    if value in (None, ""):
        raise PydanticUseDefault()  # empty: no thread condition (a None would reach the pattern)
    return str(value).strip().lower()


class SearchMessages(ListingSchema):
    user: ObjectId
    query: Query | None = None
    mailbox: ObjectId | None = None
    thread: Annotated[str | None, BeforeValidator(_thread_id),
                      Field(pattern=r"^[0-9a-f]{24}$")] = None
    from_: Partial | None = Field(default=None, alias="from")
    to: Partial | None = None
    subject: Partial | None = None
    datestart: EpochMs | None = None
    dateend: EpochMs | None = None
    minSize: Size | None = None
    maxSize: Size | None = None
    attachments: Bool = False
    flagged: Bool = False
    unseen: Bool = False
    searchable: Bool | None = None
    threadCounters: Bool = False  # only false: counters are not offered
    order: Order = "desc"

    @model_validator(mode="before")
    @classmethod
    def _refuse_unsupported(cls, values: Any) -> Any:
        if isinstance(values, dict):
            refused = {name: UNSUPPORTED[name] for name in UNSUPPORTED
                       if values.get(name) not in (None, "")}
            refused.update({name: UNSUPPORTED["or"] for name in values
                            if name.startswith(("or[", "or."))})  # or[query]=... forms
            if str(values.get("threadCounters", "")).strip().lower() in ("true", "1", "yes",
                                                                          "on", "y"):
                refused["threadCounters"] = "thread counters are not supported"
            if refused:
                raise InputValidationError(refused)
        return values
