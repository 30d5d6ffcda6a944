"""The websocket edge: API Gateway's `$connect`, `$default` and `$disconnect` events
(the handlers are declared on the app, app.py) turned into calls of
services/realtime/websockets.py, and failures into answers: a refused connect answers
its HTTP status (API Gateway then refuses the upgrade), a failed message is answered on
the connection as `{"action": "error", "error", "code"}`.
"""
from __future__ import annotations

import json
import re
from typing import Any

from chalice import Response

from chalicelib import logs
from chalicelib.api.access import websocket_principal
from chalicelib.errors import DomainError, InputValidationError
from chalicelib.services.realtime import push, websockets


def _event(event: Any) -> dict[str, Any]:
    return event.to_dict() if hasattr(event, "to_dict") else dict(event)


def _token(raw: dict[str, Any]) -> str | None:
    query = raw.get("queryStringParameters") or {}
    headers = {name.lower(): value for name, value in (raw.get("headers") or {}).items()}
    if query.get("accessToken"):
        return str(query["accessToken"])
    if headers.get("x-access-token"):
        return str(headers["x-access-token"])
    scheme, _, value = (headers.get("authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _endpoint(raw: dict[str, Any]) -> str:
    """Where to post: the configured endpoint, else the one this event came through."""
    context = raw.get("requestContext") or {}
    return push.endpoint(f"https://{context.get('domainName')}/{context.get('stage')}")


def on_connect(event: Any) -> Response:
    raw = _event(event)
    connection_id = raw["requestContext"]["connectionId"]
    try:
        websockets.connect(connection_id, websocket_principal(_token(raw)))
    except DomainError as error:
        return Response(status_code=error.status, body=error.body())
    except Exception:
        logs.exception("websocket connect failed", connection=connection_id)
        return Response(status_code=500, body={"error": "Internal server error",
                                               "code": "InternalError"})
    return Response(status_code=200, body="")


def on_message(event: Any) -> Response:
    raw = _event(event)
    connection_id = raw["requestContext"]["connectionId"]
    endpoint = _endpoint(raw)
    try:
        try:
            body = json.loads(raw.get("body") or "")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise InputValidationError({"body": "send a JSON object with an `action`"})
        action = body.get("action")
        user = body.get("user")
        if user is not None and not (isinstance(user, str)
                                     and re.fullmatch(r"[0-9a-fA-F]{24}", user)):
            raise InputValidationError({"user": "must be a 24-hex user id"})
        if action == "subscribe":
            websockets.subscribe(connection_id, user.lower() if user else None,
                                 body.get("lastEventId"), endpoint)
        elif action == "unsubscribe":
            websockets.unsubscribe(connection_id)
            push.post(endpoint, connection_id, {"action": "unsubscribed"})
        elif action == "ping":
            push.post(endpoint, connection_id, {"action": "pong"})
        else:
            raise websockets.UnknownAction()
    except DomainError as error:
        push.post(endpoint, connection_id, {"action": "error", **error.body()})
    except Exception:
        logs.exception("websocket message failed", connection=connection_id)
        push.post(endpoint, connection_id, {"action": "error", "error": "Internal server error",
                                            "code": "InternalError"})
    return Response(status_code=200, body="")


def on_disconnect(event: Any) -> Response:
    websockets.disconnect(_event(event)["requestContext"]["connectionId"])
    return Response(status_code=200, body="")
