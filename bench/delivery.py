"""Delivery benchmark: AWS calls of one inbound mail through the SES Lambda handler, to
a recipient with 10 filters (one of which matches and flags it), and 50 deliveries in
parallel to one account.

Run with `python -m bench.delivery`. Call counts are exact; capacity is estimated as
DynamoDB bills it (see devstack/calls.py).
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any

from bench.harness import setup

FILTERS = 10
PARALLEL = 50


def _mail(subject: str) -> bytes:
    return (f"From: Jane <jane@partner.example>\r\nTo: bench@example.com\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@partner.example>"
            "\r\nDate: Tue, 9 Apr 2024 11:11:33 +0200\r\n\r\nThe figures are in.\r\n").encode()


def _event(message_id: str, raw: bytes) -> dict[str, Any]:
    import boto3

    from chalicelib.config import settings
    from chalicelib.store import blobs
    boto3.client("s3", region_name=settings().region).put_object(
        Bucket=settings().mail_bucket, Key=blobs.inbound_key(message_id), Body=raw)
    return {"Records": [{"eventSource": "aws:ses", "ses": {
        "mail": {"messageId": message_id, "source": "jane@partner.example"},
        "receipt": {"recipients": ["bench@example.com"],
                    "spamVerdict": {"status": "PASS"}, "virusVerdict": {"status": "PASS"}}}}]}


def _line(name: str, log: Any) -> str:
    ddb = ", ".join(f"{op} {n}" for op, n in sorted(log.by_operation("dynamodb").items()))
    s3 = ", ".join(f"{op} {n}" for op, n in sorted(log.by_operation("s3").items()))
    return (f"{name:<40} DynamoDB {log.count('dynamodb'):>2} ({ddb})\n{'':<40} "
            f"S3 {log.count('s3')} ({s3}); {log.capacity:.1f} CU")


def main() -> None:
    from devstack.motopatch import install
    install()
    client = setup()
    from app import ses_inbound
    from devstack.calls import counting

    def post(path: str, body: Any) -> Any:
        response = client.http.request("POST", path, body=json.dumps(body),
                                       headers={"content-type": "application/json"})
        return json.loads(response.body)

    user = post("/users", {"username": "bench", "password": "x" * 12,
                           "address": "bench@example.com"})["id"]
    for n in range(FILTERS - 1):
        post(f"/users/{user}/filters", {"query_from": f"nobody{n}@", "action_seen": True})
    post(f"/users/{user}/filters", {"query_subject": "figures", "action_flag": True})

    print(f"One delivery to a recipient with {FILTERS} filters (through ses_inbound):")
    for name, subject in (("first mail (looks up INBOX once)", "figures one"),
                          ("every later mail", "figures two")):
        event = _event(subject.replace(" ", "-"), _mail(subject))
        with counting(measure_capacity=True) as log:
            result = ses_inbound(event, None)
        assert result["recipients"][0]["status"] == "stored", result
        print(_line(name, log))
    with counting() as log:
        result = ses_inbound(event, None)
    print(_line(f"same mail again ({result['recipients'][0]['status']})", log))

    from chalicelib.services import delivery
    lock = threading.Lock()
    from unittest import mock

    from botocore.client import BaseClient
    original = BaseClient._make_api_call

    def atomic(client_: Any, operation: str, params: dict[str, Any]) -> Any:
        with lock:  # in-process moto is not thread-safe; DynamoDB applies calls atomically
            return original(client_, operation, params)

    errors: list[Exception] = []
    barrier = threading.Barrier(PARALLEL)

    def one(n: int) -> None:
        barrier.wait()
        try:
            delivery.deliver(_mail(f"parallel {n}"), "jane@partner.example",
                             ["bench@example.com"], f"parallel-{n}")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    started = time.monotonic()
    with mock.patch.object(BaseClient, "_make_api_call", atomic):
        threads = [threading.Thread(target=one, args=(n,)) for n in range(PARALLEL)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    elapsed = time.monotonic() - started
    from chalicelib.store.mailboxes import MailboxItem
    inbox = next(b for b in MailboxItem.query(user) if b.path == "INBOX")
    print(f"\n{PARALLEL} parallel deliveries to one account: {len(errors)} errors, "
          f"INBOX total {int(inbox.total)} (expected {PARALLEL + 2}), uidNext "
          f"{int(inbox.uidNext)}, {elapsed:.1f} s")


if __name__ == "__main__":
    main()
