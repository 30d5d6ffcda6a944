"""The local stack's SMTP listener: mail sent to 127.0.0.1:LOCAL_SMTP_PORT (2525) is delivered
through the same code as the SES receipt Lambda (chalicelib/services/delivery.py).

Unlike SES, which accepts mail for the whole domain before the Lambda runs, this
listener answers like a mail server: an unknown recipient is refused at RCPT (550
5.1.1), a disabled or full mailbox after DATA, and a delivery that a transient failure
left incomplete with 451 (the client retries; delivery is idempotent). Every accepted
mail gets a queue id, which is its delivery id. Local tooling only; never shipped.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 2525
MAX_SIZE = 40 * 1024 * 1024  # what an upload may be (services/messages.MAX_MESSAGE_BYTES)


class DeliveryHandler:
    """aiosmtpd handler: the delivery code runs on a worker thread, off the event loop."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        from chalicelib.services import delivery
        known = await asyncio.get_running_loop().run_in_executor(
            None, delivery.recipient_known, address)
        if not known:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from chalicelib.services import delivery
        queue_id = uuid.uuid4().hex
        raw = envelope.original_content or envelope.content
        try:
            outcomes = await asyncio.get_running_loop().run_in_executor(
                None, delivery.deliver, raw, envelope.mail_from or None,
                list(envelope.rcpt_tos), queue_id)
        except delivery.DeliveryIncomplete:
            return "451 4.3.0 Delivery incomplete, try again later"
        accepted = [o for o in outcomes if o.accepted]
        if outcomes and not accepted:
            return f"{outcomes[0].code} {outcomes[0].message}"
        return f"250 2.0.0 Queued as {queue_id}"


def start(port: int, host: str = "127.0.0.1") -> Controller:
    controller = Controller(DeliveryHandler(), hostname=host, port=port,
                            data_size_limit=MAX_SIZE, decode_data=False)
    controller.start()
    return controller


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    controller = start(args.port)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"[smtp   ] ready    smtp://127.0.0.1:{args.port} (delivery as the SES Lambda; "
          f"pid {os.getpid()})", flush=True)
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
