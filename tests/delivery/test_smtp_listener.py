"""The local SMTP listener delivers through the same code as the SES Lambda."""
from __future__ import annotations

import smtplib
import socket

import pytest

from devstack import smtp
from tests.delivery.mailshapes import inbound
from tests.support import sent_mail


@pytest.fixture
def listener():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = smtp.start(port)
    try:
        yield port
    finally:
        controller.stop()


def test_mail_sent_with_smtplib_arrives_filtered_and_answers(api, account, listener):
    api.post(f"/users/{account.id}/filters", {"query_subject": "report",
                                              "action": {"flag": True}})
    api.put(f"/users/{account.id}/autoreply", {"status": True, "text": "Away"})
    with smtplib.SMTP("127.0.0.1", listener, timeout=30) as client:
        refused = client.sendmail("jane@partner.example",
                                  ["mailuser@example.com", "nobody@example.com"],
                                  inbound(attachment=b"pdf"))
    assert refused == {"nobody@example.com": (550, b"5.1.1 No such user here")}
    [message] = api.get(account.messages())["results"]
    assert message["flagged"] is True and message["attachments"] is True
    [reply] = sent_mail()
    assert "jane@partner.example" in reply["destinations"]


def test_only_unknown_recipients_is_refused_whole(listener, account):
    with smtplib.SMTP("127.0.0.1", listener, timeout=30) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("jane@partner.example", ["nobody@example.com"], inbound())


def test_full_mailbox_is_answered_after_data(api, make_user, listener):
    make_user("full", address="full@example.com", quota=10)
    with smtplib.SMTP("127.0.0.1", listener, timeout=30) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("jane@partner.example", ["full@example.com"], inbound())
    assert refused.value.smtp_code == 552
