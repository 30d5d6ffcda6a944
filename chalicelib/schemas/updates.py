"""Schema of the updates stream."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticUseDefault

from chalicelib.validation import AuditSchema, Line, ObjectId


def _absent_if_empty(value: Any) -> Any:
    if value == "":
        raise PydanticUseDefault()
    return value


# Any text: an id this server did not hand out is answered with a RESYNC event, not 400
# (an EventSource gives up on an error answer instead of reconnecting).
EventId = Annotated[Line, BeforeValidator(_absent_if_empty), Field(max_length=64)]


class UpdatesRef(AuditSchema):
    """For EventSource clients that cannot send the `Last-Event-ID` header: the query
    parameter of that name (the reference server's) or `lastEventId`; the header wins."""

    user: ObjectId
    lastEventId: EventId | None = None
    last_event_id: Annotated[EventId | None, Field(alias="Last-Event-ID")] = None

    def resume_from(self) -> str | None:
        return self.last_event_id or self.lastEventId
