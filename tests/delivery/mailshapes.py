"""Real-world shaped inbound mail and SES receipt events for the delivery tests."""
from __future__ import annotations

import base64
import uuid
from typing import Any

import boto3

from chalicelib.config import settings
from chalicelib.store import blobs


def inbound(*, sender: str = "Jane Roe <jane@partner.example>",
            to: str = "Mail User <mailuser@example.com>", cc: str = "",
            subject: str = "Quarterly report", text: str = "Hello,\r\nthe figures are in.",
            attachment: bytes | None = None, extra: str = "",
            message_id: str | None = None) -> bytes:
    """A message as a mail provider hands it over: trace and authentication headers, a
    text and an HTML alternative, optionally a PDF attachment."""
    message_id = message_id or f"<{uuid.uuid4()}@mail.partner.example>"
    boundary, alt = "mixed-7d1f", "alt-3c9e"
    head = [
        "Return-Path: <jane@partner.example>",
        "Received: from mail.partner.example (mail.partner.example [203.0.113.9])"
        " by inbound-smtp.us-east-1.amazonaws.com with SMTP id abc123",
        "DKIM-Signature: v=1; a=rsa-sha256; d=partner.example; s=s1; h=from:to:subject;"
        " bh=Zm9v; b=YmFy",
        f"From: {sender}", f"To: {to}", *([f"Cc: {cc}"] if cc else []),
        f"Subject: {subject}", "Date: Tue, 9 Apr 2024 11:11:33 +0200",
        f"Message-ID: {message_id}", *([extra.rstrip()] if extra else []),
        "MIME-Version: 1.0", f'Content-Type: multipart/mixed; boundary="{boundary}"', "",
    ]
    body = [f"--{boundary}", f'Content-Type: multipart/alternative; boundary="{alt}"', "",
            f"--{alt}", "Content-Type: text/plain; charset=utf-8", "", text, "",
            f"--{alt}", "Content-Type: text/html; charset=utf-8", "",
            f"<p>{text}</p>", f"--{alt}--", ""]
    if attachment is not None:
        body += [f"--{boundary}", 'Content-Type: application/pdf; name="report.pdf"',
                 'Content-Disposition: attachment; filename="report.pdf"',
                 "Content-Transfer-Encoding: base64", "",
                 base64.encodebytes(attachment).decode().replace("\n", "\r\n")]
    body.append(f"--{boundary}--")
    return "\r\n".join(head + body).encode() + b"\r\n"


def ses_event(raw: bytes, recipients: list[str], *, source: str = "jane@partner.example",
              message_id: str | None = None, spam: str = "PASS") -> dict[str, Any]:
    """The Lambda action's event, after the S3 action stored `raw` under its message id."""
    message_id = message_id or uuid.uuid4().hex
    boto3.client("s3", region_name=settings().region).put_object(
        Bucket=settings().mail_bucket, Key=blobs.inbound_key(message_id), Body=raw)
    return {"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {
        "mail": {"timestamp": "2024-04-09T09:11:34.000Z", "source": source,
                 "messageId": message_id, "destination": recipients,
                 "headersTruncated": False, "headers": [],
                 "commonHeaders": {"returnPath": source, "from": [source], "to": recipients}},
        "receipt": {"timestamp": "2024-04-09T09:11:34.000Z", "processingTimeMillis": 420,
                    "recipients": recipients,
                    "spamVerdict": {"status": spam}, "virusVerdict": {"status": "PASS"},
                    "spfVerdict": {"status": "PASS"}, "dkimVerdict": {"status": "PASS"},
                    "dmarcVerdict": {"status": "PASS"},
                    "action": {"type": "Lambda", "invocationType": "Event",
                               "functionArn": "arn:aws:lambda:us-east-1:123456789012:"
                                              "function:wildduck-api-prod-ses_inbound"}}}}]}
