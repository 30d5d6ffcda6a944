"""The local stack's moto server, answering one request at a time.

Moto's server handles each request on its own thread and mutates its in-memory tables
without a lock, so parallel requests interleave inside what DynamoDB promises to be
atomic: two conditional puts of one key both succeed, a transaction reads a half-written
table. Real DynamoDB applies each request (a TransactWriteItems as a whole) atomically,
and the API's guarantees (unique usernames, unique uids, exact counters) rest on that.
One lock around the whole WSGI application restores it for every service at once (S3,
KMS and SES included); moto's backends share state and helpers, so a lock per service
would not be enough. The request body is read before the lock is taken and the response
body is collected under it, so the lock is held only while moto computes.
Local tooling only; never shipped.
"""
from __future__ import annotations

import io
import threading
from typing import Any, Callable, Iterable

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SerialApp:
    """WSGI middleware: one request at a time through the wrapped application."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> list[bytes]:
        _buffer_body(environ)
        started: list[tuple[Any, ...]] = []
        chunks: list[bytes] = []

        def deferred_start(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], Any]:
            started.append((status, headers, exc_info))
            return chunks.append

        with self._lock:
            result = self._app(environ, deferred_start)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        start_response(*started[-1])
        return chunks


def _buffer_body(environ: dict[str, Any]) -> None:
    """Read the whole request body now, so a slow sender never holds the lock."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        body = stream.read(int(length)) if int(length) else b""
    elif environ.get("wsgi.input_terminated"):  # chunked: the server ends the stream
        body = stream.read()
    else:
        return
    environ["wsgi.input"] = io.BytesIO(body)


class SerialMotoServer:
    """Moto's threaded server on `host:port`, with every request serialized.

    Built from the same parts as moto's ThreadedMotoServer (its dispatcher over all
    services, its request handler), with SerialApp around the dispatcher.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        """Bind, serve on a daemon thread, and return the bound port."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = SerialApp(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._host, self._port, app, threaded=True,
                                   request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="moto", daemon=True)
        self._thread.start()
        return int(self._server.server_address[1])

    def stop(self, timeout: float = 5) -> None:
        """Stop accepting; requests still running are abandoned with their daemon threads."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = None
