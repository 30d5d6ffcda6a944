"""Inbound delivery through the SES Lambda handler: filters, forwards, autoreplies,
idempotency, refusals, concurrency."""
from __future__ import annotations

import email
import json
import time

import pytest

from chalicelib.services import delivery, outbound
from chalicelib.store.users import UserItem
from tests.conftest import new_client
from tests.delivery.mailshapes import inbound, ses_event
from tests.support import race, sent_mail


@pytest.fixture
def lambdas(app):
    with new_client(app) as client:
        def invoke(event):
            reply = client.lambda_.invoke("ses_inbound", event)
            return reply.payload
        yield invoke


def listing(api, account, box="INBOX"):
    return api.get(account.messages(account.boxes[box]))["results"]


def add_filter(api, account, body):
    reply = api.post(f"/users/{account.id}/filters", body)
    assert reply.status == 200, reply
    return reply["id"]


def test_plain_mail_lands_unseen_in_inbox_and_reads_back(api, account, lambdas):
    raw = inbound(attachment=b"%PDF-1.4 figures")
    result = lambdas(ses_event(raw, ["mailuser@example.com"]))
    assert result["disposition"] == "STOP_RULE_SET"
    assert result["recipients"] == [{"recipient": "mailuser@example.com", "status": "stored",
                                     "response": "250 2.0.0 Stored"}]
    [message] = listing(api, account)
    assert message["subject"] == "Quarterly report" and message["seen"] is False
    assert message["attachments"] is True
    mailbox = api.get(f"/users/{account.id}/mailboxes/{account.inbox}")
    assert (mailbox["total"], mailbox["unseen"]) == (1, 1)
    assert api.get(f"/users/{account.id}")["limits"]["quota"]["used"] == len(raw)


@pytest.mark.parametrize("query, mail, expect", [
    ({"from": "jane@partner"}, {}, "flagged"),
    ({"to": "boss@example.com"}, {"cc": "boss@example.com"}, "flagged"),
    ({"subject": "REPORT"}, {}, "flagged"),
    ({"text": "figures are"}, {}, "flagged"),
    ({"ha": True}, {"attachment": b"pdf"}, "flagged"),
    ({"size": 2000}, {"attachment": b"x" * 3000}, "flagged"),
    ({"size": -2000}, {}, "flagged"),
    ({"from": "somebody-else"}, {}, "not flagged"),
    ({"ha": True}, {}, "not flagged"),
    ({"size": 2000}, {}, "not flagged"),
])
def test_each_query_field_triggers_its_action(api, account, lambdas, query, mail, expect):
    add_filter(api, account, {"query": query, "action": {"flag": True}})
    lambdas(ses_event(inbound(**mail), ["mailuser@example.com"]))
    [message] = listing(api, account)
    assert message["flagged"] is (expect == "flagged")


def test_actions_seen_mailbox_spam_and_delete(api, account, lambdas):
    receipts = api.post(f"/users/{account.id}/mailboxes", {"path": "Receipts"})["id"]
    add_filter(api, account, {"query_subject": "receipt", "action_mailbox": receipts,
                              "action_seen": True})
    add_filter(api, account, {"query_subject": "viagra", "action_spam": True})
    add_filter(api, account, {"query_subject": "newsletter", "action_delete": True})
    for subject in ("Your receipt", "cheap viagra", "The newsletter", "Hello"):
        lambdas(ses_event(inbound(subject=subject), ["mailuser@example.com"]))
    moved = api.get(account.messages(receipts))["results"]
    assert [(m["subject"], m["seen"]) for m in moved] == [("Your receipt", True)]
    assert [m["subject"] for m in listing(api, account, "Junk")] == ["cheap viagra"]
    assert [m["subject"] for m in listing(api, account)] == ["Hello"]


def test_ses_spam_verdict_goes_to_junk_unless_a_filter_says_otherwise(api, account, lambdas):
    lambdas(ses_event(inbound(subject="one"), ["mailuser@example.com"], spam="FAIL"))
    add_filter(api, account, {"query_from": "jane@", "action_spam": False})
    lambdas(ses_event(inbound(subject="two"), ["mailuser@example.com"], spam="FAIL"))
    assert [m["subject"] for m in listing(api, account, "Junk")] == ["one"]
    assert [m["subject"] for m in listing(api, account)] == ["two"]


def test_every_matching_filter_applies_and_the_first_decides_a_conflict(api, account,
                                                                       lambdas):
    add_filter(api, account, {"query_from": "jane", "action": {"seen": True,
                                                               "targets": ["a@fwd.example"]}})
    add_filter(api, account, {"query_subject": "report",
                              "action": {"seen": False, "flag": True,
                                         "targets": ["b@fwd.example"]}})
    lambdas(ses_event(inbound(), ["mailuser@example.com"]))
    [message] = listing(api, account)
    assert (message["seen"], message["flagged"]) == (True, True)
    [forward] = sent_mail()
    # moto lists the message's own To as well; SES sends to the given destinations only
    assert {"a@fwd.example", "b@fwd.example"} <= set(forward["destinations"])
    assert forward["source"] == "mailuser@example.com"
    assert forward["subject"] == "Quarterly report"


def test_spam_is_never_forwarded_and_delete_still_forwards(api, account, lambdas):
    add_filter(api, account, {"query_subject": "spammy", "action": {
        "spam": True, "targets": ["a@fwd.example"]}})
    add_filter(api, account, {"query_subject": "gone", "action": {
        "delete": True, "targets": ["b@fwd.example"]}})
    lambdas(ses_event(inbound(subject="spammy"), ["mailuser@example.com"]))
    lambdas(ses_event(inbound(subject="gone"), ["mailuser@example.com"]))
    [forward] = sent_mail()
    assert "b@fwd.example" in forward["destinations"]
    assert listing(api, account) == [] and len(listing(api, account, "Junk")) == 1


def test_same_event_three_times_stores_one_copy_and_forwards_once(api, account, lambdas):
    add_filter(api, account, {"query_from": "jane", "action": {"targets": ["a@fwd.example"]}})
    event = ses_event(inbound(), ["mailuser@example.com"])
    statuses = [lambdas(event)["recipients"][0]["status"] for _ in range(3)]
    assert statuses == ["stored", "duplicate", "duplicate"]
    assert len(listing(api, account)) == 1 and len(sent_mail()) == 1
    mailbox = api.get(f"/users/{account.id}/mailboxes/{account.inbox}")
    assert mailbox["total"] == 1


def test_run_killed_after_store_before_forward_completes_on_retry(api, account, monkeypatch):
    add_filter(api, account, {"query_from": "jane", "action": {"targets": ["a@fwd.example"]}})
    event = ses_event(inbound(), ["mailuser@example.com"])
    real_send = outbound.send

    def killed(*args, **kwargs):
        raise SystemExit("Lambda timed out")

    monkeypatch.setattr(outbound, "send", killed)
    with pytest.raises(SystemExit):
        delivery.from_ses(event)
    assert len(listing(api, account)) == 1 and sent_mail() == []
    monkeypatch.setattr(outbound, "send", real_send)
    assert delivery.from_ses(event)["recipients"][0]["status"] == "duplicate"
    delivery.from_ses(event)
    assert len(listing(api, account)) == 1 and len(sent_mail()) == 1


def test_transient_send_failure_raises_for_a_retry_after_storing(api, account, monkeypatch):
    from chalicelib.errors import SendingUnavailable
    add_filter(api, account, {"query_from": "jane", "action": {"targets": ["a@fwd.example"]}})
    event = ses_event(inbound(), ["mailuser@example.com", "nobody@example.com"])
    real_send = outbound.send
    monkeypatch.setattr(outbound, "send", lambda *a, **k: (_ for _ in ()).throw(
        SendingUnavailable()))
    with pytest.raises(delivery.DeliveryIncomplete):
        delivery.from_ses(event)
    monkeypatch.setattr(outbound, "send", real_send)
    assert [r["status"] for r in delivery.from_ses(event)["recipients"]] == \
        ["duplicate", "unknown"]
    assert len(listing(api, account)) == 1 and len(sent_mail()) == 1


def test_unknown_disabled_and_over_quota_recipients_are_answered_not_raised(
        api, account, make_user, lambdas):
    full = make_user("full", address="full@example.com", quota=10)
    off = make_user("off", address="off@example.com")
    assert api.put(f"/users/{off}", {"disabled": True}).status == 200
    result = lambdas(ses_event(inbound(), ["nobody@example.com", "full@example.com",
                                           "off@example.com", "mailuser@example.com"]))
    assert [(r["status"], r["response"][:3]) for r in result["recipients"]] == [
        ("unknown", "550"), ("overquota", "552"), ("disabled", "550"), ("stored", "250")]
    assert len(listing(api, account)) == 1
    assert UserItem.get(full).storageUsed == 0


def _autoreply(api, account, **fields):
    body = {"status": True, "subject": "Out of office", "text": "Back on Monday", **fields}
    assert api.put(f"/users/{account.id}/autoreply", body).status == 200


def test_autoreply_is_sent_once_per_sender_with_threading_headers(api, account, lambdas):
    _autoreply(api, account, name="Mail User")
    raw = inbound(message_id="<first@partner.example>",
                  extra="References: <root@partner.example>")
    lambdas(ses_event(raw, ["mailuser@example.com"]))
    [reply] = sent_mail()
    assert set(reply["destinations"]) == {"jane@partner.example"}
    parsed = email.message_from_string(reply["raw"])
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["Subject"] == "Auto: Out of office"
    assert parsed["In-Reply-To"] == "<first@partner.example>"
    assert parsed["References"] == "<root@partner.example> <first@partner.example>"
    assert "mailuser@example.com" in parsed["From"] and "Mail User" in parsed["From"]
    lambdas(ses_event(inbound(subject="again"), ["mailuser@example.com"]))
    assert len(sent_mail()) == 1  # within 4 hours of the first answer
    lambdas(ses_event(inbound(sender="other@partner.example"), ["mailuser@example.com"],
                      source="other@partner.example"))
    assert len(sent_mail()) == 2


def test_autoreply_answers_again_after_four_hours(api, account, lambdas, monkeypatch):
    _autoreply(api, account, subject="")
    lambdas(ses_event(inbound(), ["mailuser@example.com"]))
    assert email.message_from_string(sent_mail()[0]["raw"])["Subject"] \
        == "Auto: Re: Quarterly report"
    later = time.time() + 4 * 3600 + 1
    monkeypatch.setattr(delivery.time, "time", lambda: later)
    lambdas(ses_event(inbound(), ["mailuser@example.com"]))
    assert len(sent_mail()) == 2


@pytest.mark.parametrize("case", ["window", "off", "no-reply", "bulk", "list", "auto",
                                  "unsubscribe", "bounce", "spam"])
def test_autoreply_is_not_sent(api, account, lambdas, case):
    fields = {"window": {"start": "2001-01-01T00:00:00Z", "end": "2001-01-02T00:00:00Z"},
              "off": {"status": False}}.get(case, {})
    _autoreply(api, account, **fields)
    extra = {"bulk": "Precedence: bulk", "list": "Precedence: list",
             "auto": "Auto-Submitted: auto-generated",
             "unsubscribe": "List-Unsubscribe: <mailto:leave@partner.example>"}.get(case, "")
    source = {"no-reply": "no-reply@partner.example", "bounce": ""}.get(case,
                                                                      "jane@partner.example")
    lambdas(ses_event(inbound(extra=extra), ["mailuser@example.com"], source=source,
                      spam="FAIL" if case == "spam" else "PASS"))
    assert sent_mail() == []


def test_fifty_parallel_deliveries_to_one_user_all_succeed(api, account, serialized_aws):
    raws = [inbound(subject=f"parallel {n}") for n in range(50)]

    def deliver(n):
        return delivery.deliver(raws[n], "jane@partner.example", ["mailuser@example.com"],
                                f"parallel-{n}")

    results, errors = race(50, deliver)
    assert errors == [] and all(r[0].status == "stored" for r in results)
    mailbox = api.get(f"/users/{account.id}/mailboxes/{account.inbox}")
    assert (mailbox["total"], mailbox["unseen"]) == (50, 50)
    assert sorted(r[0].uid for r in results) == list(range(1, 51))
    assert api.get(f"/users/{account.id}")["limits"]["quota"]["used"] == sum(map(len, raws))


def test_http_targets_never_reach_private_addresses_unless_allowed(api, account,
                                                                   monkeypatch):
    import http.server
    import threading
    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://localhost:{server.server_port}/hook"
        add_filter(api, account, {"query_from": "jane", "action": {"targets": [url]}})
        raw = inbound()
        delivery.deliver(raw, "jane@partner.example", ["mailuser@example.com"], "d1")
        assert received == []  # localhost resolves to loopback: refused
        monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE", "true")
        from chalicelib.config import reset_settings
        reset_settings()
        delivery.deliver(raw, "jane@partner.example", ["mailuser@example.com"], "d2")
        assert received == [raw]
    finally:
        server.shutdown()


def test_webhook_address_check_refuses_every_non_public_range():
    from chalicelib.services.webhooks import TargetRefused, check_address
    for address in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                    "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
                    "224.0.0.1"):
        with pytest.raises(TargetRefused):
            check_address(address)
    check_address("93.184.216.34")


def test_the_handler_answers_json_serialisable_results(account, lambdas):
    result = lambdas(ses_event(inbound(), ["MailUser@Example.com"]))
    assert json.loads(json.dumps(result))["recipients"][0]["status"] == "stored"
