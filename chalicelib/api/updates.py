"""`GET /users/{user}/updates`: the account's changes as `text/event-stream`.

Each journal entry is one event, `data: <json>` then `id: <journal number>`; COUNTERS
after a replay carry no id (they are not journal entries); the answer ends with the
position to resume after (an `id:` line without data, which sets an EventSource's last
event id without firing an event, when NOOP fillers or the start moved it) and a
`retry:` hint. The long-poll itself is services/realtime/updates.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import json

from chalice import Blueprint, Response

from chalicelib.api.http import RequestContext, Text, endpoint
from chalicelib.config import settings
from chalicelib.services.realtime import updates

if TYPE_CHECKING:
    from chalicelib.schemas.updates import UpdatesRef

bp = Blueprint(__name__)

EVENT_STREAM = Text(
    "text/event-stream",
    "The changes after `Last-Event-ID` (header or `lastEventId`), or from now on: one "
    "event per journal entry (EXISTS, EXPUNGE, FETCH, CREATE, RENAME, DELETE, LOGOUT), "
    "COUNTERS after a replay, RESYNC when the journal no longer holds the changes after "
    "the id given. Answered as soon as entries are waiting, else after waiting for them "
    "(UPDATES_WAIT_S); ends with the id to resume after and a `retry:` hint.",
    example='data: {"command":"EXISTS","mailbox":"65f0c0ffee0000000000aa01","uid":1,'
            '"message":"65f0c0ffee0000000000bb02","idate":"2024-04-09T09:11:33.000Z",'
            '"thread":"65f0c0ffee0000000000cc03"}\nid: 7\n\nretry: 500\n\n')


def event_stream(answer: updates.Poll, retry_ms: int) -> str:
    lines: list[str] = []
    last_id: int | None = None
    for seq, event in answer.events:
        lines.append("data: " + json.dumps(event, separators=(",", ":")))
        if seq is not None:
            lines.append(f"id: {seq}")
            last_id = seq
        lines.append("")
    if last_id != answer.position:
        lines += [f"id: {answer.position}", ""]
    lines += [f"retry: {retry_ms}", "", ""]
    return "\n".join(lines)


def _last_event_id(params: UpdatesRef, ctx: RequestContext) -> str | None:
    header = next((value for name, value in ctx.headers.items()
                   if name.lower() == "last-event-id"), None)
    return header if header and header.strip() else params.resume_from()


@endpoint(bp, "/users/{user}/updates", "GET", "updates.UpdatesRef", response=EVENT_STREAM,
          summary="Stream the account's changes (EventSource, long-poll)")
def get_updates(params: UpdatesRef, ctx: RequestContext) -> Response:
    config = settings()
    answer = updates.poll(params.user, updates.parse_id(_last_event_id(params, ctx)),
                          wait_s=config.updates_wait_s, poll_s=config.updates_poll_s)
    return Response(body=event_stream(answer, config.updates_retry_ms), status_code=200,
                    headers={
                        "Content-Type": "text/event-stream; charset=utf-8",
                        "Cache-Control": "no-cache"})
