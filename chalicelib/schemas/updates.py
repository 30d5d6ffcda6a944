"""Schema of the updates stream."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticUseDefault

from chalicelib.validation import Line, ObjectId, Schema


def _absent_if_empty(value: Any) -> Any:
    if value == "":
        raise PydanticUseDefault()
    return value


# Any text: an id this server did not hand out is answered with a RESYNC event, not 400
# (an EventSource gives up on an error answer instead of reconnecting).
EventId = Annotated[Line, BeforeValidator(_absent_if_empty), Field(max_length=64)]


class UpdatesRef(Schema):
    """`lastEventId` is for EventSource clients that cannot send the `Last-Event-ID`
    header; the header wins when both are given."""

    user: ObjectId
    lastEventId: EventId | None = None
