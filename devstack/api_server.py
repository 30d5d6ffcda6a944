"""`chalice local` for the local stack, with a server that takes bursts of connections.

Chalice's local server listens with socketserver's default backlog of 5: a burst of
parallel clients overflows it, and the kernel drops or resets the extra connections
(clients see resets, or stall for seconds in SYN retries). This launcher builds the same
pieces `chalice local --no-autoreload` builds (stage configuration, app with a
thread-local current request, chalice's LocalGateway behind its request handler) and
serves them with a threaded server whose backlog is large. No reloader: nothing watches
the project directory, and the stack keeps its data in moto's memory.
Local tooling only; never shipped.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from http.server import HTTPServer
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class BurstHTTPServer(ThreadingMixIn, HTTPServer):
    """One daemon thread per connection, and room for many pending connections."""

    daemon_threads = True
    request_queue_size = 1024  # the kernel caps it at net.core.somaxconn


def build_server(stage: str, host: str, port: int, project_dir: Path = ROOT) -> Any:
    """Chalice's LocalDevServer for `stage`, as `chalice local` builds it, on our server."""
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_routes
    from chalice.local import LocalChalice, LocalDevServer

    factory = CLIFactory(str(project_dir), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app  # imports app.py with the stage's environment applied
    validate_routes(app.routes)
    # Request threads share one app object: keep app.current_request per thread.
    app.__class__ = type("LocalApp", (LocalChalice, type(app)), {})
    return LocalDevServer(app, config, host, port, server_cls=BurstHTTPServer)


class _Stop:
    """Set by SIGINT/SIGTERM. The handler only flips a flag (it runs on the main thread
    between two bytecodes, possibly while that thread holds a lock, so it must take
    none); a second signal leaves at once."""

    requested = False

    def __call__(self, *_: object) -> None:
        if self.requested:
            os._exit(130)
        self.requested = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The local stack's API server (chalice local).")
    parser.add_argument("--stage", default="local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    os.environ["AWS_CHALICE_CLI_MODE"] = "true"  # as under the chalice CLI
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    stop = _Stop()
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    server = build_server(args.stage, args.host, args.port)
    from devstack.heap import GcKeeper
    GcKeeper().start()  # the app is imported: freeze it, keep collections short
    httpd = server.server
    httpd.timeout = 0.5  # handle_request returns at least this often to see `stop`
    print(f"Serving on http://{args.host}:{args.port}", flush=True)
    while not stop.requested:
        httpd.handle_request()
    httpd.server_close()
    sys.stdout.flush()
    os._exit(0)  # requests in flight are abandoned with their daemon threads


if __name__ == "__main__":
    sys.exit(main())
