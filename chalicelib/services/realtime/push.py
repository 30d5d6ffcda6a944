"""Posting messages to websocket connections: API Gateway's management API
(`POST @connections/{id}`) at the stage's endpoint.

The endpoint is `WEBSOCKET_ENDPOINT` (`https://<api>.execute-api.<region>.amazonaws.com/
<stage>`, set on the functions by the deployment template; the local bridge sets its
own), or, inside a websocket handler, the one its event names. `sender` is the one
place a message leaves; tests replace it (`use`) to see what was posted or to play a
connection that is gone, which moto never reports.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Callable, Iterator

from chalicelib.config import settings


class Gone(Exception):
    """The connection is closed (GoneException): forget it."""


Sender = Callable[[str, str, bytes], None]  # (endpoint, connection id, data)


@lru_cache(maxsize=4)
def _client(endpoint: str) -> Any:
    import boto3  # only functions that post pay for it
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint,
                        region_name=settings().region)


def management_api(endpoint: str, connection_id: str, data: bytes) -> None:
    client = _client(endpoint)
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=data)
    except client.exceptions.GoneException:
        raise Gone(connection_id) from None


sender: Sender = management_api


@contextmanager
def use(replacement: Sender) -> Iterator[None]:
    """Post through `replacement` inside the block (tests)."""
    global sender
    previous, sender = sender, replacement
    try:
        yield
    finally:
        sender = previous


def endpoint(fallback: str | None = None) -> str:
    return settings().websocket_endpoint or fallback or ""


def post(endpoint_url: str, connection_id: str, message: dict[str, Any]) -> bool:
    """Post one JSON message; False when the connection is gone."""
    try:
        sender(endpoint_url, connection_id, json.dumps(message, separators=(",", ":")).encode())
    except Gone:
        return False
    return True
