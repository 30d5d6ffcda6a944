"""What the local stack sent: the mail moto's SES accepted, oldest first.

`make sent` (`python -m devstack.sent`) reads it from the running stack's moto server
through moto's own API (`/moto-api/data.json`, where devstack/motopatch.py keeps SES's
sent messages tracked) and prints one line a mail, or JSON with `--json`. Tests read
the same list in-process (`sent_in_process`). Local tooling only; never shipped.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import json
import sys
import urllib.request
from email.utils import getaddresses
from typing import Any


def describe(raw: dict[str, Any]) -> dict[str, Any]:
    """One sent mail: SES's id, the envelope, and the headers a reader checks first.

    Moto adds the To/Cc/Bcc header addresses to the envelope's destinations it records
    (SES itself delivers to the envelope only); they are all in the envelope anyway, so
    `destinations` lists each address once, bare."""
    text = raw.get("raw_data") or ""
    message = email.message_from_string(text, policy=email.policy.default)
    destinations = [address for _, address in getaddresses(raw.get("destinations") or [])]
    return {"id": raw.get("id"), "source": raw.get("source"),
            "destinations": list(dict.fromkeys(destinations)),
            "from": str(message.get("From", "")), "to": str(message.get("To", "")),
            "cc": str(message.get("Cc", "")), "subject": str(message.get("Subject", "")),
            "messageId": str(message.get("Message-ID", "")), "raw": text}


def sent_in_process(region: str) -> list[dict[str, Any]]:
    """The sent mail of the in-process moto (tests)."""
    return [describe(vars(message)) for message in _backend(region).sent_messages]


def clear_in_process(region: str) -> None:
    from moto.ses.models import RawMessage
    _backend(region).sent_messages.clear()
    RawMessage.instances_tracked.clear()  # type: ignore[attr-defined]


def _backend(region: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    return ses_backends[DEFAULT_ACCOUNT_ID][region]


def sent_from_server(endpoint: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as reply:
        data = json.loads(reply.read())
    return [describe(raw) for raw in data.get("ses", {}).get("RawMessage", [])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, help="the API port of the stack (default: the "
                                                 "only one running, else $PORT or 8080)")
    parser.add_argument("--json", action="store_true", help="full records, raw source included")
    args = parser.parse_args()
    from devstack.jobs import read_state
    mails = sent_from_server(read_state(args.port)["endpoint"])
    if args.json:
        print(json.dumps(mails, indent=2))
        return 0
    for mail in mails:
        print(f"{mail['id']}  {mail['source']} -> {', '.join(mail['destinations'])}  "
              f"{mail['subject']!r}")
    print(f"{len(mails)} sent", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
