"""`make run`: the local stack in the foreground.

Starts a moto server on loopback as the embedded DynamoDB/S3/SES/KMS, creates the
tables and bucket from infra/tables.yaml, then runs the app under chalice's local
gateway (devstack/api_server.py) against it. One status line per component; Ctrl-C (or
SIGTERM) stops everything. Moto keeps its data in memory, so nothing is written inside
the project directory.

Moto answers one request at a time (devstack/serialmoto.py), so every DynamoDB request
and transaction is atomic as in DynamoDB, and backs up only what a transaction touches
(devstack/motopatch.py), so memory stays flat under transactional load.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _status(component: str, state: str, detail: str) -> None:
    print(f"[{component:<7}] {state:<8} {detail}", flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stage_env(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.2)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "0")))
    parser.add_argument("--ws-port", type=int, default=int(os.environ.get("WS_PORT", "8081")))
    args = parser.parse_args()

    stage_env = _stage_env("local")
    moto_port = args.moto_port or _free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    aws_env = {
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
    os.environ.update(aws_env)
    os.environ.update(stage_env)

    import logging

    sys.path.insert(0, str(ROOT))
    from devstack.motopatch import install as install_moto_patch
    from devstack.serialmoto import SerialMotoServer
    from devstack.tables import create_all, ensure_kms_key

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines

    install_moto_patch()  # the server runs in this process: patch its backend class
    moto = SerialMotoServer("127.0.0.1", moto_port)
    moto.start()
    _status("moto", "ready", f"{endpoint} (DynamoDB, Streams, S3, SES, KMS; data in memory)")

    region = aws_env["AWS_DEFAULT_REGION"]
    tables = create_all(stage_env["TABLE_PREFIX"], stage_env["MAIL_BUCKET"], region)
    ensure_kms_key(stage_env["KMS_KEY_ID"], region)
    _status("tables", "ready", f"{len(tables)} tables and bucket {stage_env['MAIL_BUCKET']} "
                               "from infra/tables.yaml")

    api = subprocess.Popen(
        [sys.executable, "-m", "devstack.api_server", "--stage", "local",
         "--host", "127.0.0.1", "--port", str(args.port)],
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if not _wait_for_port(args.port, api):
        _status("api", "failed", "the API server did not start (see its output above)")
        api.terminate()
        moto.stop()
        return 1
    token_note = "access token required" if stage_env.get("ACCESS_TOKEN") or \
        os.environ.get("ACCESS_TOKEN") else "no access token (loopback only)"
    _status("api", "ready", f"http://127.0.0.1:{args.port} (chalice local, {token_note})")
    from devstack import wsbridge
    bridge = wsbridge.launch(args.ws_port)
    if bridge is None or not _wait_for_port(args.ws_port, bridge):
        _status("ws", "failed", f"the websocket bridge did not start on port {args.ws_port} "
                                "(in use? set WS_PORT; or see its output above)")
    else:
        _status("ws", "ready", f"ws://127.0.0.1:{args.ws_port} (websocket bridge; "
                               "journal stream pumped to the app's handlers)")
    _status("stack", "running", "press Ctrl-C to stop")

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and api.poll() is None:
            time.sleep(0.3)
    finally:
        wsbridge.stop(bridge)
        if api.poll() is None:
            api.send_signal(signal.SIGINT)
            try:
                api.wait(timeout=10)
            except subprocess.TimeoutExpired:
                api.kill()
        _status("api", "stopped", "")
        moto.stop()
        _status("moto", "stopped", "in-memory data discarded")
    return 0 if stopping else (api.returncode or 1)


if __name__ == "__main__":
    sys.exit(main())
