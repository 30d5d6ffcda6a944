"""Messages benchmark: AWS calls and DynamoDB capacity of each message request, with a
mailbox of 20 and one of 20,000 messages built directly in moto (batch writes).

Run with `make bench-messages` (or `python -m bench.messages`). Call counts are exact;
capacity is estimated as DynamoDB bills it (moto reports a constant per call).
"""
from __future__ import annotations

import json
import time
from typing import Any

from bench.harness import setup

LARGE = 20_000


def _row(name: str, status: int, log: Any) -> str:
    ddb = ", ".join(f"{op} {n}" for op, n in sorted(log.by_operation("dynamodb").items()))
    s3 = ", ".join(f"{op} {n}" for op, n in sorted(log.by_operation("s3").items()))
    return f"{name:<46} {status:>3}  {ddb or '-':<44} {s3 or '-':<26} {log.capacity:>6.1f}"


def _ses(log: Any) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(log.by_operation("ses").items())) or "-"


def main() -> None:
    from devstack.motopatch import install
    install()
    client = setup()
    from devstack.calls import counting
    from devstack.mailfill import fill_mailbox
    from chalicelib.store.mailboxes import MailboxItem

    def call(method: str, path: str, body: Any = None, raw: bytes | None = None,
             accept: str | None = None) -> tuple[int, Any, Any]:
        headers = {"content-type": "message/rfc822" if raw is not None else "application/json"}
        if accept:
            headers["accept"] = accept
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        with counting(measure_capacity=True) as log:
            response = client.http.request(method, path, headers=headers, body=payload)
        try:
            parsed = json.loads(response.body)
        except ValueError:
            parsed = None
        return response.status_code, parsed, log

    status, body, _ = call("POST", "/users", {"username": "benchmail", "password": "x" * 12})
    user = body["id"]
    boxes = {box.path: box.id for box in MailboxItem.query(user)}
    inbox, drafts, sent = boxes["INBOX"], boxes["Drafts"], boxes["Sent Mail"]
    base = f"/users/{user}/mailboxes"
    small = ("From: Sender <sender@example.com>\r\nTo: benchmail@example.com\r\n"
             "Subject: Bench\r\nMessage-ID: <bench@example.com>\r\n\r\nShort body.\r\n").encode()
    large_body = small.replace(b"Short body.", b"A long line of text. " * 1000)

    rows = []
    status, _, log = call("POST", f"{base}/{inbox}/messages", raw=small)
    rows.append(_row("upload (small, bodies on the item)", status, log))
    status, _, log = call("POST", f"{base}/{inbox}/messages", raw=large_body)
    rows.append(_row("upload (bodies in S3)", status, log))
    status, _, log = call("GET", f"{base}/{inbox}/messages/1")
    rows.append(_row("GET message (bodies on the item)", status, log))
    status, _, log = call("GET", f"{base}/{inbox}/messages/2")
    rows.append(_row("GET message (bodies in S3)", status, log))
    status, _, log = call("GET", f"{base}/{inbox}/messages/1/message.eml", accept="*/*")
    rows.append(_row("GET message.eml", status, log))
    status, _, log = call("PUT", f"{base}/{inbox}/messages/1", {"flagged": True})
    rows.append(_row("PUT flags (1 message)", status, log))
    status, _, log = call("GET", f"/users/{user}/flagged")
    rows.append(_row("GET flagged", status, log))
    status, _, log = call("PUT", f"{base}/{inbox}/messages/1", {"moveTo": sent})
    rows.append(_row("PUT moveTo (1 message)", status, log))
    status, _, log = call("GET", f"{base}/{sent}/messages/1/events")
    rows.append(_row("GET events", status, log))
    status, _, log = call("DELETE", f"{base}/{sent}/messages/1")
    rows.append(_row("DELETE message (to the archive)", status, log))
    status, body, log = call("GET", f"/users/{user}/archived")
    rows.append(_row("GET archived", status, log))
    archived = body["results"][0]["id"]
    status, _, log = call("POST", f"/users/{user}/archived/{archived}/restore", {})
    rows.append(_row("POST restore", status, log))
    mail = {"to": [{"address": "someone@other.test"}], "subject": "Bench", "text": "Sent."}
    status, _, log = call("POST", f"/users/{user}/submit", mail)
    rows.append(_row(f"POST submit, 1 rcpt (SES {_ses(log)})", status, log))
    status, body, _ = call("POST", f"/users/{user}/submit", {**mail, "isDraft": True,
                                                               "uploadOnly": True})
    status, _, log = call("POST", f"{base}/{drafts}/messages/{body['message']['id']}/submit", {})
    rows.append(_row(f"POST draft submit (SES {_ses(log)})", status, log))

    started = time.monotonic()
    fill_mailbox(user, drafts, 20)
    fill_mailbox(user, inbox, LARGE)
    built = time.monotonic() - started
    status, page, log_small = call("GET", f"{base}/{drafts}/messages")
    rows.append(_row("GET messages, page of 20 of 20", status, log_small))
    status, page, log_large = call("GET", f"{base}/{inbox}/messages")
    rows.append(_row(f"GET messages, page of 20 of {LARGE + 1:,}", status, log_large))
    status, _, log = call("GET", f"{base}/{inbox}/messages?next={page['nextCursor']}")
    rows.append(_row(f"GET messages, 2nd page of {LARGE + 1:,}", status, log))
    status, _, log = call("PUT", f"{base}/{inbox}/messages/1:1000", {"seen": False})
    rows.append(_row("PUT flags (1,000 messages)", status, log))
    status, _, log = call("PUT", f"{base}/{inbox}/messages/1:1000", {"moveTo": sent})
    rows.append(_row("PUT moveTo (1,000 messages)", status, log))
    status, _, log = call("POST", f"/users/{user}/quota/reset", {})
    rows.append(_row(f"POST quota/reset ({LARGE + 1:,} messages)", status, log))

    print(f"{'request':<46} {'st':>3}  {'DynamoDB calls':<44} {'S3 calls':<26} {'capacity':>8}")
    for row in rows:
        print(row)
    ratio = log_large.capacity / log_small.capacity
    print(f"\npage of 20: {log_small.capacity:.1f} vs {log_large.capacity:.1f} capacity units "
          f"(ratio {ratio:.2f}); mailbox of {LARGE:,} built in {built:.0f} s with batch writes")
    print("(read capacity estimated from item sizes; transactions: 2 units per started KB)")


if __name__ == "__main__":
    main()
