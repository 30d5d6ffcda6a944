"""The local stack's websocket API: what API Gateway does for the app's websocket
handlers, on one machine.

`python -m devstack.wsbridge --port 8081` (started by `make run`, devstack/run.py):

- serves websockets on 127.0.0.1:<port>; each connection gets an id like API Gateway's,
  and the app's `$connect`, `$default` and `$disconnect` handlers are called with the
  events API Gateway would send (a handshake the connect handler refuses is answered
  with its status);
- serves the management API on 127.0.0.1:<manage port>, `POST|GET|DELETE
  /<stage>/@connections/<id>`, which is where the app's posts go (this process sets
  `WEBSOCKET_ENDPOINT` to it): a post to a connection this bridge does not hold is
  answered 410 GoneException, as API Gateway answers it;
- pumps the tables' streams into the app's stream handlers (devstack/streams.py), so
  journal entries reach websocket subscribers as they would through Lambda.

It imports the app with the environment devstack/run.py set up (stage variables,
AWS_ENDPOINT_URL of the moto server). Local tooling only; never shipped.
"""
from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("devstack.wsbridge")


def _connection_id() -> str:
    """API Gateway's ids are 12 bytes in base64 (`L0SM9cOFvHcCIhw=`)."""
    return base64.b64encode(secrets.token_bytes(10)).decode()


class Bridge:
    def __init__(self, app_module: Any, host: str, port: int, stage: str = "local") -> None:
        self.app_module = app_module
        self.host, self.port, self.stage = host, port, stage
        self.sockets: dict[str, Any] = {}
        self.locks: dict[str, threading.Lock] = {}

    # API Gateway's events

    def _context(self, connection_id: str, route: str, kind: str,
                 source_ip: str) -> dict[str, Any]:
        now = int(time.time() * 1000)
        return {"routeKey": route, "eventType": kind, "messageDirection": "IN",
                "stage": self.stage, "connectionId": connection_id,
                "domainName": f"{self.host}:{self.port}", "apiId": "local",
                "requestId": str(uuid.uuid4()), "extendedRequestId": str(uuid.uuid4()),
                "requestTimeEpoch": now, "connectedAt": now,
                "identity": {"sourceIp": source_ip}}

    def connect_event(self, connection_id: str, path: str, headers: dict[str, str],
                      source_ip: str) -> dict[str, Any]:
        query = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
        return {"headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
                "queryStringParameters": query or None,
                "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
                "requestContext": self._context(connection_id, "$connect", "CONNECT",
                                                source_ip),
                "isBase64Encoded": False}

    def message_event(self, connection_id: str, body: str, source_ip: str) -> dict[str, Any]:
        context = self._context(connection_id, "$default", "MESSAGE", source_ip)
        context["messageId"] = _connection_id()
        return {"requestContext": context, "body": body, "isBase64Encoded": False}

    def disconnect_event(self, connection_id: str, source_ip: str) -> dict[str, Any]:
        context = self._context(connection_id, "$disconnect", "DISCONNECT", source_ip)
        context.update(disconnectStatusCode=1000, disconnectReason="")
        return {"headers": {}, "requestContext": context, "isBase64Encoded": False}

    def _invoke(self, handler: str, event: dict[str, Any]) -> dict[str, Any]:
        return getattr(self.app_module, handler)(event, None) or {"statusCode": 200}

    # the websocket side

    def process_request(self, connection: Any, request: Any) -> Any:
        connection_id = _connection_id()
        source_ip = str(connection.remote_address[0])
        headers = {name: value for name, value in request.headers.raw_items()}
        answer = self._invoke("websocket_connect", self.connect_event(
            connection_id, request.path, headers, source_ip))
        status = int(answer.get("statusCode", 200))
        if status >= 300:
            return connection.respond(status, str(answer.get("body") or ""))
        connection.bridge_id = connection_id
        return None

    def session(self, connection: Any) -> None:
        connection_id = connection.bridge_id
        source_ip = str(connection.remote_address[0])
        self.locks[connection_id] = threading.Lock()
        self.sockets[connection_id] = connection
        try:
            for message in connection:
                body = message if isinstance(message, str) else message.decode("utf-8",
                                                                               "replace")
                self._invoke("websocket_message",
                             self.message_event(connection_id, body, source_ip))
        except Exception:  # noqa: BLE001 - the connection ends; $disconnect still runs
            log.exception("websocket session %s", connection_id)
        finally:
            self.sockets.pop(connection_id, None)
            self._invoke("websocket_disconnect", self.disconnect_event(connection_id, source_ip))

    # the management API side

    def post(self, connection_id: str, data: bytes) -> bool:
        connection = self.sockets.get(connection_id)
        if connection is None:
            return False
        try:
            with self.locks[connection_id]:
                connection.send(data.decode("utf-8"))
        except Exception:  # noqa: BLE001 - closed meanwhile: gone
            return False
        return True

    def close(self, connection_id: str) -> bool:
        connection = self.sockets.get(connection_id)
        if connection is None:
            return False
        connection.close()
        return True


def management_handler(bridge: Bridge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _connection_id(self) -> str | None:
            path = urlsplit(self.path).path
            marker = "/@connections/"
            return unquote(path.split(marker, 1)[1]) if marker in path else None

        def _answer(self, status: int, body: dict[str, Any] | None = None,
                    error: str | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if error:
                self.send_header("x-amzn-ErrorType", error)
            self.end_headers()
            self.wfile.write(data)

        def _gone(self) -> None:
            self._answer(410, {"message": "Gone"}, "GoneException")

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            connection_id = self._connection_id()
            if connection_id and bridge.post(connection_id, data):
                self._answer(200)
            else:
                self._gone()

        def do_DELETE(self) -> None:  # noqa: N802
            connection_id = self._connection_id()
            if connection_id and bridge.close(connection_id):
                self._answer(204)
            else:
                self._gone()

        def do_GET(self) -> None:  # noqa: N802
            connection_id = self._connection_id()
            if connection_id and connection_id in bridge.sockets:
                self._answer(200, {"connectedAt": "", "identity": {"sourceIp": "127.0.0.1"}})
            else:
                self._gone()

        def log_message(self, *_: Any) -> None:
            pass

    return Handler


def launch(port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes] | None:
    """Start the bridge (and stream pump) as a child process of devstack/run.py; None
    when something else already listens on `port`."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return None
    return subprocess.Popen([sys.executable, "-m", "devstack.wsbridge", "--port", str(port)],
                            cwd=ROOT, env={**(env or os.environ), "PYTHONUNBUFFERED": "1"})


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()  # SIGTERM: handled even where SIGINT is ignored
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The local stack's websocket API bridge.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("WS_PORT", "8081")))
    parser.add_argument("--manage-port", type=int, default=0,
                        help="port of the management API (default: any free port)")
    parser.add_argument("--stage", default="local")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    for noisy in ("websockets", "botocore", "boto3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)

    manage = ThreadingHTTPServer((args.host, args.manage_port), BaseHTTPRequestHandler)
    manage.daemon_threads = True
    os.environ["WEBSOCKET_ENDPOINT"] = \
        f"http://{args.host}:{manage.server_address[1]}/{args.stage}"
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"
    sys.path.insert(0, str(ROOT))
    import app as app_module
    from websockets.sync.server import serve

    from devstack.streams import StreamPump

    bridge = Bridge(app_module, args.host, args.port, args.stage)
    manage.RequestHandlerClass = management_handler(bridge)
    threading.Thread(target=manage.serve_forever, daemon=True).start()
    pump = StreamPump(app_module)
    tables = pump.start()
    server = serve(bridge.session, args.host, args.port, process_request=bridge.process_request,
                   ping_interval=None, compression=None)
    print(f"websocket bridge on ws://{args.host}:{args.port}, management API on "
          f"{os.environ['WEBSOCKET_ENDPOINT']}, streams pumped: {', '.join(tables)}",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        pump.stop()
        manage.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
